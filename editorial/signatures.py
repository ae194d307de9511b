"""Per-agent signatures: render, append, and check that a text is signed by its author and nobody else.

Styles (chosen by the director per agent): first name ``— Julie``, initials ``^JM``, team/role
``— L'équipe Propreté``. Initials go on the same line (the X convention), the others on a new line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from core.models import Agent, SignatureStyle
from editorial.charter import Finding, Severity

_INITIALS_RE = re.compile(r"(?<![\w^])\^([A-Z]{2,4})\b")
_DASH_LINE_RE = re.compile(r"(?m)(?:^|\s)[—–]\s*([^\n—–]{2,60}?)\s*$")


def signature_for(agent: Agent) -> str:
    """The signature ``agent`` must use."""
    if agent.signature_style is SignatureStyle.INITIALS:
        return f"^{agent.initials.strip().upper()}"
    if agent.signature_style is SignatureStyle.TEAM and agent.team_signature.strip():
        team = agent.team_signature.strip()
        return team if team[0] in "—–" else f"— {team}"
    return f"— {agent.first_name}"


def _separator(signature: str) -> str:
    return " " if signature.startswith("^") else "\n"


def sign(body: str, signature: str) -> str:
    """``body`` (NFC-normalised, trailing spaces removed) followed by ``signature``, never twice."""
    body = unicodedata.normalize("NFC", body).rstrip()
    if body.endswith(signature):
        return body
    return f"{body}{_separator(signature)}{signature}" if body else signature


def unsign(text: str, signature: str) -> str:
    """``text`` without its trailing ``signature`` (the body the agent wrote)."""
    stripped = text.rstrip()
    if signature and stripped.endswith(signature):
        return stripped[: -len(signature)].rstrip()
    return stripped


def _key(sig: str) -> str:
    return sig.lstrip("—– ").strip().casefold()


def signature_findings(text: str, expected: str, others: Iterable[str], *,
                       missing: Severity, mismatch: Severity) -> list[Finding]:
    """``signature_missing`` if ``text`` does not end with ``expected``; ``signature_mismatch`` for any other
    agent's signature (or initials) found in it — an agent cannot sign as someone else."""
    findings: list[Finding] = []
    stripped = text.rstrip()
    if missing is not Severity.OFF and not stripped.endswith(expected):
        findings.append(Finding(
            code="signature_missing", severity=missing, start=len(stripped), end=len(stripped),
            message=f"La réponse doit se terminer par votre signature « {expected} ».",
            suggestion=f"{_separator(expected)}{expected}"))
    if mismatch is Severity.OFF:
        return findings
    own = _key(expected)
    foreign = {_key(o): o for o in others if o and _key(o) != own}
    for m in _INITIALS_RE.finditer(text):
        if _key("^" + m.group(1)) != own:
            findings.append(Finding(
                code="signature_mismatch", severity=mismatch, start=m.start(), end=m.end(),
                message=f"« {m.group(0)} » n'est pas votre signature : un agent ne signe pas au nom d'un autre.",
                suggestion=""))
    for m in _DASH_LINE_RE.finditer(text):
        name = m.group(1).strip()
        key = name.casefold()
        if key != own and (key in foreign or any(key == k.split()[0] for k in foreign if k)):
            findings.append(Finding(
                code="signature_mismatch", severity=mismatch, start=m.start(1), end=m.end(1),
                message=f"« {name} » est la signature d'un autre agent : signez avec « {expected} ».",
                suggestion=None))
    return findings
