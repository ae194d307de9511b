"""What the demo sandbox refuses, as :mod:`core.errors`: messages a real platform would refuse (empty, too long
for the platform), and an outbox file that cannot be read or written (``PermanentFailure``, ``raise … from err``).
The sandbox never fails transiently, is never rate limited and needs no credentials.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import PermanentFailure

TEXT_LIMITS = {"x": 280, "facebook": 8000}


def check_text(text: str, platform: str) -> None:
    """Refuse an empty message, or one longer than ``platform`` accepts (X: 280 characters, Facebook: 8,000)."""
    if not text.strip():
        raise PermanentFailure("the demo platform refuses an empty message")
    limit = TEXT_LIMITS.get(platform)
    if limit is not None and len(text) > limit:
        raise PermanentFailure(f"message too long for {platform}: {len(text)} > {limit} characters")


def outbox_error(action: str, path: Path | None, err: OSError) -> PermanentFailure:
    """The error for an outbox file that cannot be ``action`` (read, write): a person must look at the disk."""
    return PermanentFailure(f"cannot {action} the demo outbox {path}: {err}")
