// Live escalation queue: polls /staff/escalations.json every 2 s and rebuilds the rows
// (textContent only, never innerHTML). A new URGENT shows a banner and, if chosen, beeps.
(function () {
  "use strict";
  var body = document.getElementById("queue-body");
  if (!body) { return; }
  var ago = body.getAttribute("data-label-ago") || "ago";
  var seen = {};
  Array.prototype.forEach.call(body.querySelectorAll("tr[data-code]"), function (tr) {
    seen[tr.getAttribute("data-code")] = true;
  });
  var sound = document.getElementById("sound");
  if (sound) {
    sound.checked = window.localStorage.getItem("desk-sound") === "on";
    sound.addEventListener("change", function () {
      window.localStorage.setItem("desk-sound", sound.checked ? "on" : "off");
    });
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain); gain.connect(ctx.destination);
    osc.start(); osc.stop(ctx.currentTime + 0.4);
  }

  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }

  function render(rows) {
    var fresh = [];
    while (body.firstChild) { body.removeChild(body.firstChild); }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var level = r.level.toLowerCase();
      tr.className = "level-" + level + " state-" + r.state;
      tr.setAttribute("data-code", r.code);
      var a = document.createElement("a");
      a.href = "/staff/escalations/" + encodeURIComponent(r.code); a.textContent = r.code;
      cell(tr, "").appendChild(a);
      var badge = document.createElement("span");
      badge.className = "badge level-" + level; badge.textContent = r.level;
      cell(tr, "").appendChild(badge);
      cell(tr, r.state);
      cell(tr, r.age + " " + ago).title = r.raised;
      cell(tr, r.programme);
      cell(tr, r.acknowledged_by);
      if (!seen[r.code]) {
        seen[r.code] = true;
        if (r.level === "URGENT" && r.state === "open") { tr.classList.add("fresh"); fresh.push(r); }
      }
      body.appendChild(tr);
    });
    if (fresh.length) {
      var alertBox = document.getElementById("alert"), link = document.getElementById("alert-link");
      link.href = "/staff/escalations/" + encodeURIComponent(fresh[0].code);
      link.textContent = fresh[0].code;
      alertBox.hidden = false;
      document.title = "(!) " + document.title.replace(/^\(!\) /, "");
      if (sound && sound.checked) { beep(); }
    }
  }

  function poll() {
    fetch("/staff/escalations.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (res.status === 403) { window.location.href = "/staff/login"; return null; }
        return res.ok ? res.json() : null;
      })
      .then(function (data) { if (data) { render(data.escalations); } })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();
