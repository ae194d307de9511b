"""The French text catalogue (the analogue of Home Assistant's strings.json), importable without Streamlit.

- :mod:`console.messages.errors`: the sentence of every error code and reason;
- :mod:`console.messages.labels`: statuses, platforms, roles, sentiments...
- :mod:`console.messages.notices`: outcomes that are not errors (sent to a platform, record being written).

:func:`message_for` is what the UI and the CLI show for an error (decision 0008).
"""

from __future__ import annotations

from collections.abc import Mapping

from console.messages.errors import CODES, PARAM_LABELS, REASONS, TECHNICAL_CODES
from console.messages.labels import (
    PLATFORM_LABELS,
    READING_LABELS,
    RISK_LABELS,
    RISK_SHORT_LABELS,
    ROLE_LABELS,
    SENTIMENT_LABELS,
    STATUS_LABELS,
)
from console.messages.notices import NOTICES, notice
from core.errors import ParvisError

__all__ = ["CODES", "NOTICES", "PLATFORM_LABELS", "READING_LABELS", "REASONS", "REPLY_IMPOSSIBLE", "RISK_LABELS",
           "RISK_SHORT_LABELS", "ROLE_LABELS", "SENTIMENT_LABELS",
           "STATUS_LABELS", "message_for", "notice", "render"]

REPLY_IMPOSSIBLE = {"instagram_tag": REASONS["reply_impossible_instagram_tag"]}


def _shown(value: object) -> str:
    if isinstance(value, ParvisError):
        return message_for(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def _label(labels: object, value: object) -> str:
    if isinstance(labels, Mapping):
        return str(labels.get(str(value), value))
    try:
        return str(labels(value))  # type: ignore[operator]
    except (KeyError, ValueError):
        return str(value)


def render(reason: str, params: Mapping[str, object]) -> str | None:
    """The French sentence of ``reason`` filled with ``params``; None if the catalogue has no usable entry."""
    template = REASONS.get(reason)
    if template is None:
        return None
    values = {key: _shown(value) for key, value in params.items()}
    values.update({f"{key}_label": _label(PARAM_LABELS[key], value) for key, value in params.items()
                   if key in PARAM_LABELS})
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return None


def message_for(err: BaseException) -> str:
    """French text for ``err``: the sentence of its reason, else the sentence of its code (plus, for a
    technical code without reason, its English diagnostic). Never an English sentence on its own."""
    parvis = err if isinstance(err, ParvisError) else None
    reason = getattr(parvis, "reason", None)
    if parvis is not None and reason:
        text = render(reason, parvis.params)
        if text:
            return text
    code = getattr(err, "code", "unknown") if isinstance(err, ParvisError) else "unknown"
    base = CODES.get(code, CODES["unknown"])
    detail = str(err).strip() if code in TECHNICAL_CODES and not reason else ""
    return f"{base} : {detail}" if detail else base
