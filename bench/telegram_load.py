"""N women answering over the real Telegram channel against the fake Bot API, at a total rate.

Two rows from one run, one bot after the other against a fresh fake each: ``partner-followup``
(the real ``python -m bot run`` process: config file, SQLite, key file, deletions on, the
product's Telegram limits) and ``plain PTB`` (``bench/plain_ptb_bot.py``: a ConversationHandler
and PicklePersistence asking the same survey). Both bots run as their own process, so the CPU
figure (``/proc/<pid>/stat``, every thread) is the bot's alone; the fake and the women run here.

The women: each waits for her next question and answers it (a button; numbers typed for a
multi-choice item); the answers arrive open-loop as a Poisson process of ``--rate`` per second
in total (seeded), each going to the woman who has waited longest for her turn. Latency is from
her answer being queued for getUpdates to the next question's sendMessage (or an edit carrying
the next question, or the closing line) reaching the fake for her chat; it is printed apart for
the gate answer (every woman's first) and the questions. Targets (issue 17): 100 women at 20/s,
p99 < 250 ms and CPU per prompt <= 1.0x the plain bot's; 200 women at 28/s, p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import percentile
from bench.sms_webhook import cpu_seconds
from bench.waves import address_for, bulk_enrol
from bot.config import TelegramConfig, load_config
from bot.runtime.app import open_app
from bot.schedule.contact_request import ContactRequest
from tests.bot.channels.support_telegram import Service, buttons, item_of
from tests.bot.channels.support_telegram_script import CLOSING
from tests.fakes.telegram_api import FakeTelegram

JSONDict = dict[str, Any]
MESSAGE_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
GATE = "_gate"
#: Answers that raise no risk alert (a risk answer adds the help message to both bots alike).
PREFERRED = {GATE: "yes", "_consent": "yes", "safe_now": "yes", "_help": "go_on"}
WARM_UP_SECONDS = 90.0
DRAIN_SECONDS = 10.0
NO_LIMIT = sys.maxsize
ROOT = Path(__file__).resolve().parents[1]


class RecordingTelegram(FakeTelegram):
    """The fake Bot API, telling a listener (in the server thread) of every bot message."""

    listener: Callable[[int, str, JSONDict, float], None] | None = None

    def _apply(self, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        status, payload = super()._apply(method, params)
        result = payload.get("result")
        if (
            status == 200
            and method in MESSAGE_METHODS
            and isinstance(result, dict)
            and self.listener
        ):
            self.listener(int(result["chat"]["id"]), method, result, time.perf_counter())
        return status, payload


@dataclass
class Woman:
    chat: int
    prompt: JSONDict | None = None
    answered_item: str | None = None
    answered_at: float | None = None
    done: bool = False
    items: list[str] = field(default_factory=list)


def choose(message: JSONDict) -> tuple[str, str]:
    """What she does with a question: ("press", data) or ("type", text)."""
    datas = buttons(message)
    item = item_of(message)
    if any(d.endswith("|+") for d in datas):
        return "type", "1"  # a multi-choice item: the first option, typed
    for wanted in (PREFERRED.get(item), "no", "never"):
        if wanted is not None and f"{item}|{wanted}" in datas:
            return "press", f"{item}|{wanted}"
    return "press", datas[0]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    after_gate: list[float] = field(default_factory=list)  # the first answer of each woman
    after_question: list[float] = field(default_factory=list)
    prompts: int = 0
    starved: int = 0
    wall: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)


class Women:
    """The simulated women on the driver's loop; bot messages arrive from the fake's thread."""

    def __init__(self, fake: RecordingTelegram, chats: list[int]) -> None:
        self.fake = fake
        self.women = {chat: Woman(chat) for chat in chats}
        self.ready: deque[int] = deque()
        self.waiting: set[int] = set()
        self.tally = Tally()
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        fake.listener = self._from_fake

    def _from_fake(self, chat: int, method: str, message: JSONDict, at: float) -> None:
        self._loop.call_soon_threadsafe(self._bot_message, chat, method, message, at)

    def _bot_message(self, chat: int, method: str, message: JSONDict, at: float) -> None:
        woman = self.women.get(chat)
        if woman is None or woman.done:
            return
        closing = method != "editMessageReplyMarkup" and CLOSING in message.get("text", "")
        datas = buttons(message) if "reply_markup" in message else []
        asks = bool(datas) and (method == "sendMessage" or item_of(message) != woman.answered_item)
        if not (closing or asks):
            return  # an info line, a keyboard taken away, a tick shown
        if chat in self.waiting and woman.answered_at is not None:
            self.waiting.discard(chat)
            took = at - woman.answered_at
            self.tally.latencies.append(took)
            kind = (
                self.tally.after_gate if woman.answered_item == GATE else self.tally.after_question
            )
            kind.append(took)
        if closing:
            woman.done = True
        else:
            woman.prompt = message
            if chat not in self.ready:
                self.ready.append(chat)
        self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        deadline = self._loop.time() + timeout
        while not check():
            self._changed.clear()
            left = deadline - self._loop.time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return True

    def answer(self, woman: Woman) -> None:
        assert woman.prompt is not None
        how, what = choose(woman.prompt)
        woman.answered_item = item_of(woman.prompt)
        woman.items.append(woman.answered_item)
        self.waiting.add(woman.chat)
        woman.answered_at = time.perf_counter()
        if how == "press":
            self.fake.user_presses(woman.chat, woman.prompt["message_id"], what)
        else:
            self.fake.user_sends(woman.chat, what)
        self.tally.prompts += 1

    async def drive(self, rate: float, seconds: float, prompts: int, seed: int) -> Tally:
        """Poisson arrivals of answers at ``rate``/s until ``seconds`` or ``prompts`` run out."""
        rng, loop = random.Random(seed), self._loop
        started = loop.time()
        wall_start, clock_start = time.perf_counter(), time.time()
        due = started
        while self.tally.prompts < prompts and loop.time() - started < seconds:
            due += rng.expovariate(rate)
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            if not self.ready:
                self.tally.starved += 1  # nobody's turn: the arrival waits, then pacing resumes
                left = seconds - (loop.time() - started)
                if not await self.until(lambda: bool(self.ready) or self.all_done(), left):
                    break
                if self.all_done():
                    break
                due = loop.time()
            self.answer(self.women[self.ready.popleft()])
        await self.until(lambda: not self.waiting, DRAIN_SECONDS)
        self.tally.wall = time.perf_counter() - wall_start
        self.tally.window = (clock_start, time.time())
        return self.tally

    def all_done(self) -> bool:
        return all(w.done for w in self.women.values())


@dataclass(frozen=True)
class Row:
    name: str
    tally: Tally
    cpu: float
    calls: Counter[str]
    women: list[Woman]

    def per_prompt(self, ops: tuple[str, ...] | None = None) -> float:
        count = sum(n for op, n in self.calls.items() if ops is None or op in ops)
        return count / self.tally.prompts if self.tally.prompts else 0.0

    @property
    def cpu_ms_per_1000(self) -> float:
        return self.cpu * 1000 / self.tally.prompts * 1000 if self.tally.prompts else 0.0


@dataclass(frozen=True)
class Load:
    women: int
    rate: float
    seconds: float
    prompts: int
    seed: int
    chat_limit: float

    @property
    def chats(self) -> list[int]:
        return [int(address_for("telegram", i)) for i in range(self.women)]


def calls_in(fake: FakeTelegram, window: tuple[float, float]) -> Counter[str]:
    """Bot API calls other than getUpdates made inside the measured window, by method."""
    return Counter(
        c.op or "?" for c in fake.calls if window[0] <= c.at <= window[1] and c.op != "getUpdates"
    )


async def measure(
    name: str, load: Load, fake: RecordingTelegram, pid: int, women: Women, warm_up: float
) -> Row:
    if not await women.until(lambda: len(women.ready) == load.women, warm_up):
        raise SystemExit(f"{name}: only {len(women.ready)} of {load.women} women got a question")
    cpu_before = cpu_seconds(pid)
    tally = await women.drive(load.rate, load.seconds, load.prompts, load.seed)
    cpu = cpu_seconds(pid) - cpu_before
    return Row(name, tally, cpu, calls_in(fake, tally.window), list(women.women.values()))


async def prepare(service: Service, count: int) -> None:
    """Enrol the women on Telegram and open their T0 sessions: openers go out once it runs."""
    app = await open_app(load_config(service.config, env=service.env), {})
    try:
        await bulk_enrol(app, count, channel="telegram", tz="Europe/London")
        ids = [f"p{i:08d}" for i in range(count)]
        for start in range(0, count, 200):
            await app.service.begin_contacts([ContactRequest(p, "T0") for p in ids[start:][:200]])
    finally:
        await app.close()


async def ours(load: Load, tmp: Path) -> Row:
    defaults = TelegramConfig()
    with RecordingTelegram() as fake:
        service = Service(
            tmp,
            fake,
            delete_after_seconds=defaults.delete_after_seconds,
            max_per_chat_per_second=load.chat_limit,
        )
        for chat in load.chats:
            fake.open_chat(chat)  # she pressed Start when she linked the chat
        await prepare(service, load.women)
        women = Women(fake, load.chats)
        await asyncio.to_thread(service.start)
        try:
            assert service.proc is not None
            return await measure(
                "partner-followup", load, fake, service.proc.pid, women, WARM_UP_SECONDS
            )
        finally:
            fake.listener = None
            await asyncio.to_thread(service.stop)


async def plain(load: Load, tmp: Path) -> Row:
    with RecordingTelegram() as fake:
        women = Women(fake, load.chats)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP", "TELEG"))}
        env["TELEGRAM_BOT_TOKEN"] = fake.token
        log = (tmp / "plain.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.plain_ptb_bot", fake.base_url, str(tmp / "plain.pickle"),
            cwd=ROOT, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            polling = await women.until(lambda: bool(fake.calls_to("getUpdates")), 30.0)
            if not polling or proc.returncode is not None:
                raise SystemExit(f"plain PTB bot did not start: {(tmp / 'plain.log').read_text()}")
            for chat in load.chats:
                fake.user_sends(chat, "/start")
            return await measure("plain PTB", load, fake, proc.pid, women, WARM_UP_SECONDS)
        finally:
            fake.listener = None
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 20)
            log.close()


def table(rows: list[Row]) -> list[str]:
    base = rows[-1].cpu_ms_per_1000
    head = (
        f"{'bot':<18}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'msgs/prompt':>13}"
        f"{'calls/prompt':>14}{'prompts':>9}{'CPU ms/1,000 prompts':>22}{'ratio':>7}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        lat = [x * 1000 for x in row.tally.latencies] or [float("nan")]
        ratio = row.cpu_ms_per_1000 / base if base else float("nan")
        lines.append(
            f"{row.name:<18}{percentile(lat, 50):>9.1f}{percentile(lat, 99):>9.1f}{max(lat):>9.1f}"
            f"{row.per_prompt(MESSAGE_METHODS):>13.2f}{row.per_prompt():>14.2f}"
            f"{row.tally.prompts:>9,}{row.cpu_ms_per_1000:>22,.0f}{ratio:>6.2f}x"
        )
    return lines


def split(tally: Tally) -> str:
    """Reply latency after the gate answer (every woman's first) apart from the others."""
    parts = []
    for name, values in (("gate", tally.after_gate), ("question", tally.after_question)):
        if values:
            parts.append(
                f"{name} ({len(values)}) p50 {percentile(values, 50) * 1000:.1f} ms,"
                f" p99 {percentile(values, 99) * 1000:.1f} ms"
            )
    return "reply latency after an answer to the " + "; to a ".join(parts)


def verdicts(load: Load, rows: list[Row]) -> list[str]:
    ours_row, plain_row = rows
    p99 = percentile(ours_row.tally.latencies, 99) * 1000
    ratio = ours_row.cpu_ms_per_1000 / plain_row.cpu_ms_per_1000 if plain_row.cpu else float("nan")
    out = []
    if (load.women, load.rate) == (100, 20):
        ok = p99 < 250 and ratio <= 1.0
        out.append(
            f"target at 100 women, 20/s: p99 < 250 ms and CPU <= 1.0x plain: {'OK' if ok else 'MISSED'}"
        )
    if (load.women, load.rate) == (200, 28):
        out.append(f"target at 200 women, 28/s: p99 < 1 s: {'OK' if p99 < 1000 else 'MISSED'}")
    return out


def report(load: Load, rows: list[Row]) -> None:
    print(
        f"telegram load: {load.women} women, {load.rate:g} answers/s in total (Poisson arrivals,"
        f" seed {load.seed}), up to {load.seconds:g} s"
        + ("" if load.prompts == NO_LIMIT else f" or {load.prompts:,} prompts")
        + " per bot;"
        f" our per-chat limit {load.chat_limit:g}/s"
    )
    for line in table(rows):
        print(line)
    for row in rows:
        unanswered = row.tally.prompts - len(row.tally.latencies)
        finished = sum(w.done for w in row.women)
        print(
            f"{row.name}: {row.tally.prompts / row.tally.wall:.1f} answers/s over {row.tally.wall:.1f} s,"
            f" {unanswered} answer(s) without a reply, {row.tally.starved} arrival(s) waited for"
            f" a woman's turn, {finished} of {len(row.women)} women finished; calls {dict(row.calls)}"
        )
    for row in rows:
        print(f"{row.name}: {split(row.tally)}")
    for line in verdicts(load, rows):
        print(line)


def parse(argv: list[str]) -> Load:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_load", description=__doc__)
    parser.add_argument("--women", type=int, default=100, help="simulated women (default 100)")
    parser.add_argument("--rate", type=float, default=20.0, help="answers/s in total (default 20)")
    parser.add_argument("--seconds", type=float, default=30.0, help="per bot (default 30)")
    parser.add_argument(
        "--prompts", type=int, default=None, help="stop after this many answers (default: none)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the arrivals (default 1)")
    parser.add_argument(
        "--chat-limit",
        type=float,
        default=TelegramConfig().max_per_chat_per_second,
        help="our telegram.max_per_chat_per_second (default: the product's)",
    )
    args = parser.parse_args(argv)
    prompts = NO_LIMIT if args.prompts is None else args.prompts
    if args.women < 1 or args.rate <= 0 or args.seconds <= 0 or prompts < 1:
        parser.error("--women, --rate, --seconds and --prompts must be positive")
    return Load(args.women, args.rate, args.seconds, prompts, args.seed, args.chat_limit)


async def run(load: Load) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="telegram-load-") as tmp:
        (Path(tmp) / "ours").mkdir()
        return [await ours(load, Path(tmp) / "ours"), await plain(load, Path(tmp))]


def main(argv: list[str]) -> None:
    load = parse(argv)
    report(load, asyncio.run(run(load)))


if __name__ == "__main__":
    main(sys.argv[1:])
