"""A fresh PostgreSQL schema per test, on the server FOLLOWUP_TEST_POSTGRES_URL names.

No server, no test: a test that needs PostgreSQL FAILS (never skips) with how to start one.
``make test`` and ``.ci/run`` start a throw-away cluster themselves (scripts/with_postgres.sh).
Each test gets its own schema (``search_path`` set in the URL's ``options``), dropped after,
so tests stay independent; only 127.0.0.1 servers are accepted.
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest

ENV = "FOLLOWUP_TEST_POSTGRES_URL"
HOW = (
    f"{ENV} is not set: these tests need a PostgreSQL server. Run them through"
    " `make test` or `scripts/with_postgres.sh .venv/bin/pytest ...` (a throw-away cluster on"
    f" 127.0.0.1:55432, Debian's postgresql package), or set {ENV}="
    "postgresql://postgres@127.0.0.1:PORT/DATABASE to a test server of your own."
)


def server_url() -> str:
    url = os.environ.get(ENV, "")
    if not url:
        pytest.fail(HOW, pytrace=False)
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        pytest.fail(f"{ENV} must point at 127.0.0.1 (got host {host!r})", pytrace=False)
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` whose sessions use ``schema`` (libpq's ``options``: ``-c search_path=...``)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new empty schema; yields the URL that uses it; drops it (and all in it) after."""
    url = server_url()
    # Letters only: a run of hex digits in the URL (which the service logs) could pass for a
    # phone number in the tests that hold the log free of numbers.
    schema = "test_" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pg_dump(url: str) -> bytes:
    """The plain-text dump of the schema ``url`` uses (every row of every table)."""
    binary = shutil.which("pg_dump") or str(
        Path(os.environ.get("FOLLOWUP_TEST_PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_dump"
    )
    schema = url.rpartition("search_path%3D")[2]
    server = url.partition("?")[0]
    done = subprocess.run(
        [binary, "--no-owner", "--schema", schema, "--dbname", server],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return done.stdout
