"""What a person reads for an error: the French text of the catalogue (``console.messages.message_for``).

``str(err)`` is an English message for logs (decision 0008): tests about the French sentence look here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest

from console.messages import message_for


@contextlib.contextmanager
def raises_fr(exc_type: type[BaseException], match: str) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """Like ``pytest.raises(exc_type, match=...)``, matched against the French text a person reads."""
    with pytest.raises(exc_type) as info:
        yield info
    text = message_for(info.value)
    assert re.search(match, text), f"{match!r} not found in {text!r}"
