"""Time-ordered row keys for mentions: ``rowid = created_at in ms × 2^20 + a slot``.

A mention's rowid (also the full-text index's rowid) follows its publication time, whatever order mentions
arrive in (a city importing its history after months of syncing). The full-text index can then hand over its
matches newest first and stop after one page, and a date filter becomes a rowid range
(docs/decisions/0004-time-ordered-mention-keys.md). Mentions of the same millisecond take the block's slots in
the order they arrive (:func:`core.repo.free_mention_keys`), so ties keep their arrival order, as before.
Pure functions: no SQL here.
"""

from __future__ import annotations

from datetime import UTC, datetime

SLOT_BITS = 20
SLOTS = 1 << SLOT_BITS
_MS_LIMIT = 1 << 42  # ±139 years around 1970: keys stay within ±2^62, far inside SQLite's 64-bit rowids
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(when: datetime) -> int:
    """Milliseconds since the Unix epoch (exact integer arithmetic), clamped to the representable range."""
    if when.tzinfo is None:
        raise ValueError("mention times must be timezone-aware")
    delta = when - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return max(-_MS_LIMIT, min(_MS_LIMIT - 1, ms))


def block_start(when: datetime) -> int:
    """The smallest key of mentions created at ``when`` (same millisecond): a lower bound for date filters."""
    return millis(when) * SLOTS
