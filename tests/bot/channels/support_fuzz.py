"""Shared pieces of the webhook fuzz tests: settings, strategies, the plaintext scan.

The rig (and its database) lives for a whole test function while Hypothesis runs many
examples against it, so every count a test checks is a delta within one example, and
provider ids come from process-wide counters: a repeated id would be de-duplicated and a
count that ignored that would be off (or, worse, loosened until it passed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.bot.channels.support_webhook_rig import Rig

#: Deterministic (derandomize), no example database on disk, no per-example deadline.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SIDS = itertools.count(1)
_UPDATE_IDS = itertools.count(700_000_000)


def new_sid() -> str:
    """A MessageSid never used before in this process."""
    return f"SM{next(_SIDS):032x}"


def new_update_id() -> int:
    return next(_UPDATE_IDS)


#: What a phone can send: any character UTF-8 can carry (no lone surrogates).
sms_text = st.text(st.characters(codec="utf-8"), max_size=200)
#: JSON can carry lone surrogates (escaped); Telegram texts get them too.
any_text = st.text(max_size=200)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def meaningful(text: str) -> bool:
    """Long and varied enough that finding it in the database cannot be chance."""
    return len(text.strip()) >= 8 and len(set(text)) >= 5


def assert_never_stored(rig: Rig, texts: Iterable[str], before: bytes) -> None:
    """No text appears in the SQLite files (main and WAL) in the clear, unless it was there
    before the example: Hypothesis also draws string literals from the code under test
    ('telegram', a column name), which the schema and settled rows hold legitimately."""
    stored = rig.stored_bytes()
    for text in texts:
        if not meaningful(text):
            continue
        for form in {text, text.strip()}:
            encoded = form.encode("utf-8", "surrogatepass")
            if encoded not in before:
                assert encoded not in stored, f"stored in the clear: {form!r}"


def assert_no_traceback(body: bytes) -> None:
    lowered = body.lower()
    for marker in (b"traceback", b'file "', b"exception", b"error:"):
        assert marker not in lowered, body[:500]
