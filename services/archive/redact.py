"""Remove residents' personal data from texts that leave the console (reports, public FAQ).

Personal data is found by ``core.personal_data.find_personal_data`` (the moderation detector: phones, e-mails,
postal addresses, IBANs, social security numbers). @handles, links and the names given in ``names`` are always
masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.personal_data import find_personal_data

PLACEHOLDERS = {"email": "[e-mail]", "phone": "[téléphone]", "iban": "[IBAN]", "address": "[adresse]",
                "nir": "[n° de sécurité sociale]"}
_HANDLE = re.compile(r"(?<![\w.])@\w{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with personal data, @handles, links and the given names replaced by neutral placeholders."""
    spans = [(m.start, m.end, m.kind) for m in find_personal_data(text)]
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
