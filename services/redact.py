"""Remove residents' personal data from texts that leave the console (reports, public FAQ).

Uses ``core.personal_data.find_personal_data`` (the moderation detector) when it is installed; until then a
local fallback finds e-mails, French phone numbers, IBANs and street numbers. TODO(issue #4): delete
``_fallback_spans`` once core/personal_data.py ships. @handles, links and the names given in ``names`` are
always masked.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

_FALLBACK = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("iban", re.compile(r"\bFR\d{2}(?:\s?[0-9A-Z]{4}){5}\s?[0-9A-Z]{3}\b", re.IGNORECASE)),
    ("phone", re.compile(r"(?:(?:\+|00)33[\s.-]?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")),
    ("address", re.compile(r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|"
                           r"place|route|quai)\b", re.IGNORECASE)),
)
PLACEHOLDERS = {"email": "[e-mail]", "phone": "[téléphone]", "iban": "[IBAN]", "address": "[adresse]"}
_HANDLE = re.compile(r"(?<![\w.])@\w{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")


def _fallback_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), kind) for kind, pattern in _FALLBACK for m in pattern.finditer(text)]


def _detector_spans(text: str) -> list[tuple[int, int, str]] | None:
    try:
        module = importlib.import_module("core.personal_data")
    except ImportError:
        return None
    found = getattr(module, "find_personal_data", None)
    if found is None:
        return None
    out = []
    for item in found(text):
        out.append(_span(item))
    return out


def _span(item: Any) -> tuple[int, int, str]:
    """Accept (start, end[, kind]) tuples, dicts or objects with start/end/kind."""
    if isinstance(item, dict):
        start, end = item.get("start"), item.get("end")
        if start is None and item.get("spans"):
            start, end = item["spans"][0]
        return int(start), int(end), str(item.get("kind", ""))
    if isinstance(item, tuple | list):
        return int(item[0]), int(item[1]), str(item[2]) if len(item) > 2 else ""
    return int(item.start), int(item.end), str(getattr(item, "kind", ""))


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with personal data, @handles, links and the given names replaced by neutral placeholders."""
    spans = _detector_spans(text)
    spans = _fallback_spans(text) if spans is None else spans + _fallback_spans(text)
    out, last = [], 0
    for start, end, kind in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(PLACEHOLDERS.get(kind, "[donnée masquée]"))
        last = end
    out.append(text[last:])
    result = _URL.sub("[lien]", _HANDLE.sub("@…", "".join(out)))
    wanted = sorted({n.strip() for n in names if n and len(n.strip()) > 2}, key=len, reverse=True)
    if wanted:
        pattern = "|".join(re.escape(n) for n in wanted)
        result = re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", "[nom]", result, flags=re.IGNORECASE)
    return result
