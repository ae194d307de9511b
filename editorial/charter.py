"""The editorial charter as data: limits, term lists, allowed domains, rule severities, période de réserve.

A :class:`Charter` is what the director edits (and exports/imports as YAML, :mod:`editorial.charter_yaml`);
:class:`editorial.engine.CompiledCharter` precompiles it for the live check. Each rule has a stable ``code``,
a default severity (``block``: cannot be sent; ``warn``: needs approval) and a French label for the UI.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.models import Platform


class Severity(enum.StrEnum):
    """What a rule does when it fires."""

    BLOCK = "block"  # the message cannot be submitted or sent
    WARN = "warn"  # allowed, but the message goes to a director for approval
    OFF = "off"  # rule disabled


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule of the engine: its stable code, default severity and French label."""

    code: str
    default: Severity
    label: str


RULES: tuple[RuleInfo, ...] = (
    RuleInfo("length", Severity.BLOCK, "Longueur maximale de la plateforme (signature comprise)"),
    RuleInfo("banned_term", Severity.BLOCK, "Termes interdits"),
    RuleInfo("discouraged_term", Severity.WARN, "Termes déconseillés"),
    RuleInfo("excessive_caps", Severity.WARN, "Majuscules excessives"),
    RuleInfo("excessive_punctuation", Severity.WARN, "Ponctuation excessive"),
    RuleInfo("personal_data", Severity.BLOCK, "Données personnelles d'un administré"),
    RuleInfo("link_not_allowed", Severity.BLOCK, "Liens vers des domaines non autorisés"),
    RuleInfo("hashtag_camelcase", Severity.WARN, "Hashtags en CamelCase (accessibilité)"),
    RuleInfo("hashtag_emoji_position", Severity.WARN, "Hashtags et emoji en fin de message (accessibilité)"),
    RuleInfo("too_many_emoji", Severity.WARN, "Trop d'emoji (accessibilité)"),
    RuleInfo("decorative_unicode", Severity.BLOCK, "Lettres Unicode décoratives (accessibilité)"),
    RuleInfo("image_alt_missing", Severity.BLOCK, "Texte alternatif des images (accessibilité)"),
    RuleInfo("platform_media", Severity.BLOCK, "Images acceptées par la plateforme (nombre, poids, format)"),
    RuleInfo("reserve_bilan", Severity.WARN, "Période de réserve : valorisation du bilan"),
    RuleInfo("reserve_candidate", Severity.WARN, "Période de réserve : noms de candidats"),
    RuleInfo("reserve_theme", Severity.WARN, "Période de réserve : thèmes de campagne"),
    RuleInfo("reserve_blackout", Severity.BLOCK, "Veille et jour du scrutin : rien de lié à la campagne"),
    RuleInfo("signature_missing", Severity.BLOCK, "Signature de l'agent présente"),
    RuleInfo("signature_mismatch", Severity.BLOCK, "Signature conforme à l'auteur"),
)
RULE_CODES: frozenset[str] = frozenset(r.code for r in RULES)
DEFAULT_SEVERITIES: dict[str, Severity] = {r.code: r.default for r in RULES}
RULE_LABELS: dict[str, str] = {r.code: r.label for r in RULES}


def rule_label(code: object) -> str:
    """The French label of a rule code as people read it (the code itself if unknown, e.g. a retired rule)."""
    return RULE_LABELS.get(str(code), str(code))


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """A listed term, with the replacement to suggest and why it is listed."""

    term: str
    replacement: str = ""
    reason: str = ""
    gender: str = ""  # the replacement's gender, "m" or "f" ("": read from its ending; editorial/articles.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Election:
    """A ballot: its name and the dates of its rounds (the director enters them)."""

    name: str
    rounds: tuple[date, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveSettings:
    """Période de réserve (Code électoral L.52-1): ballots and the configurable term lists."""

    elections: tuple[Election, ...] = ()
    bilan_terms: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    campaign_themes: tuple[str, ...] = ()
    volume_tolerance: float = 0.3  # warn when volume departs more than 30 % from the same period a year earlier


@dataclass(frozen=True, slots=True, kw_only=True)
class Charter:
    """One version of the municipality's editorial line."""

    name: str = "Charte éditoriale"
    version: int = 0  # 0: the built-in default, never saved
    limits: dict[str, int] = field(default_factory=dict)  # platform -> limit (default: the platform's own)
    severities: dict[str, Severity] = field(default_factory=dict)  # rule code -> severity override
    banned: tuple[Term, ...] = ()
    discouraged: tuple[Term, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    allowed_contacts: tuple[str, ...] = ()  # the city's own phone numbers / e-mails, allowed in replies
    hashtags: tuple[str, ...] = ()  # canonical CamelCase hashtags (#VilleDeValmont)
    acronyms: tuple[str, ...] = ()  # all-caps words that are fine (CCAS, RGAA...)
    caps_max_ratio: float = 0.5
    caps_min_letters: int = 12
    max_emoji: int = 3
    risk_threshold: float = 0.7  # mentions at or above this risk need approval for any reply
    reserve: ReserveSettings = field(default_factory=ReserveSettings)

    def severity(self, code: str) -> Severity:
        """The severity of rule ``code`` in this charter."""
        return self.severities.get(code, DEFAULT_SEVERITIES[code])

    def limit_for(self, platform: Platform) -> int | None:
        """The length limit set for ``platform``, or None for the platform's own."""
        return self.limits.get(str(platform))


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One rule firing on a draft: code, severity, French explanation, span, and a replacement if known."""

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    suggestion: str | None = None  # replaces text[start:end]; None when no automatic fix exists

    def to_dict(self) -> dict[str, Any]:
        """Plain dict stored with the draft for the audit."""
        return {"code": self.code, "severity": str(self.severity), "message": self.message,
                "start": self.start, "end": self.end, "suggestion": self.suggestion}


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """An attachment of a draft; images need alternative text (RGAA)."""

    kind: str = "image"
    name: str = ""
    alt: str = ""
    size: int = 0  # bytes (0: unknown)
    mime: str = ""  # e.g. "image/jpeg" ("": unknown)
