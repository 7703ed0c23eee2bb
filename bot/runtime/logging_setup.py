"""Logging that never carries her words, number or chat id: only codes and pseudonyms."""

from __future__ import annotations

import logging


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library loggers would print request URLs (they contain the bot token) and bodies.
    # aiosqlite at DEBUG logs every SQL parameter (pseudonyms, blind indexes).
    for noisy in (
        "httpx", "httpcore", "telegram", "twilio", "apscheduler", "uvicorn.access", "aiosqlite",
    ):  # fmt: skip
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # PTB logs an unparsable answer (a proxy's error page) with a traceback and the body; the
    # channel maps it to a retry and the dispatcher logs that in one line.
    logging.getLogger("telegram.request").setLevel(logging.CRITICAL)
