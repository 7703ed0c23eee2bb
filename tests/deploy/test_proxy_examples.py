"""The proxy examples in deploy/ cap every forwarded path's request body (issue 15 item 13).

A webhook is public: without a cap, anyone can make the service read megabytes before
the signature check refuses them.
"""

from __future__ import annotations

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def caddy_handles() -> dict[str, str]:
    """Each ``handle PATH { ... }`` block of the Caddyfile, by path (nested braces kept)."""
    text = (DEPLOY / "Caddyfile.example").read_text()
    blocks: dict[str, str] = {}
    for found in re.finditer(r"^\thandle ([^ {]*) ?\{\n", text, re.M):
        depth, at = 1, found.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[at], 0)
            at += 1
        blocks[found.group(1)] = text[found.end() : at]
    return blocks


def test_caddy_caps_the_body_of_every_proxied_path() -> None:
    blocks = caddy_handles()
    proxied = {path: body for path, body in blocks.items() if "reverse_proxy" in body}
    assert set(proxied) == {"/sms/*", "/telegram/webhook", "/staff/*"}
    for path, body in proxied.items():
        size = re.search(r"max_size (\d+)KB", body)
        assert size is not None and int(size.group(1)) <= 64, path


def test_nginx_caps_the_body_and_passes_the_client_address_to_the_desk() -> None:
    text = (DEPLOY / "nginx.conf.example").read_text()
    assert re.search(r"^    client_max_body_size 16k;", text, re.M)  # the server default
    staff = text[text.index("location /staff/") :]
    staff = staff[: staff.index("}")]
    assert "X-Forwarded-For $remote_addr" in staff and "client_max_body_size 64k" in staff
