"""Saved replies (modèles de réponse) with the variables ``{prenom}``, ``{service}`` and ``{lien}``."""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.errors import ValidationError

VARIABLES: tuple[str, ...] = ("prenom", "service", "lien")
SAMPLE_VALUES: dict[str, str] = {"prenom": "Camille", "service": "Propreté", "lien": "https://www.valmont.fr"}
_VAR_RE = re.compile(r"\{([^{}]*)\}")
_EMPTY_GREETING = re.compile(r"(\w)\s+(,)")


def variables_in(body: str) -> tuple[str, ...]:
    """Variables used in ``body``, in order of first use."""
    seen: list[str] = []
    for m in _VAR_RE.finditer(body):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return tuple(seen)


def validate_template(title: str, body: str) -> None:
    """Refuse an empty template or one using an unknown variable (ValidationError)."""
    if not title.strip():
        raise ValidationError(reason="template_title_required")
    if not body.strip():
        raise ValidationError(reason="template_empty")
    unknown = [v for v in variables_in(body) if v not in VARIABLES]
    if unknown:
        raise ValidationError(reason="template_variable_unknown", variable=unknown[0],
                              variables=["{" + v + "}" for v in VARIABLES])


def render_template(body: str, values: Mapping[str, str]) -> str:
    """Fill the variables; a missing value leaves no gap ("Bonjour {prenom}," -> "Bonjour,")."""
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in VARIABLES:
            raise ValidationError(reason="template_variable_unknown", variable=name,
                                  variables=["{" + v + "}" for v in VARIABLES])
        return (values.get(name) or "").strip()

    text = _VAR_RE.sub(fill, body)
    text = _EMPTY_GREETING.sub(r"\1\2", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
