"""The charter check: a precompiled charter runs every rule on a draft and returns explained findings.

``CompiledCharter(charter).check(text, ctx)`` is pure and fast (term lists are dictionaries of folded words,
regexes are module-level): it runs live in the composer, then again server-side at submit and publish time.
The text checked is the *signed* text, NFC-normalised, as it will be sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.models import Platform
from editorial import lengths, links, rules_a11y, rules_media, rules_text
from editorial.charter import Charter, Finding, Media, Severity
from editorial.lengths import count_for
from editorial.reserve import ReserveStatus, reserve_status
from editorial.signatures import signature_findings
from editorial.terms import TermIndex, tokenize

_DIGITS = re.compile(r"\d")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    """What the rules need besides the text: platform, time, the author's signature, attachments."""

    platform: Platform
    now: datetime
    signature: str | None = None  # the author's signature; None skips the signature rules (e.g. a template)
    other_signatures: tuple[str, ...] = ()  # every other agent's signature (impersonation check)
    media: tuple[Media, ...] = ()
    is_post: bool = False  # a post of the calendar (some platforms need an image), not a reply
    private: bool = False  # an answer in a private conversation: the personal-data rule warns, never blocks
    _words: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict, repr=False, compare=False)

    def words(self, text: str) -> list[tuple[str, int, int]]:
        """Folded words of ``text`` with spans (computed once per check)."""
        cached = self._words.get(text)
        if cached is None:
            cached = tokenize(text)
            self._words[text] = cached
        return cached

    def body_end(self, text: str) -> int:
        """Where the signature starts in ``text`` (``len(text)`` if unsigned)."""
        stripped = text.rstrip()
        if self.signature and stripped.endswith(self.signature):
            return len(stripped) - len(self.signature)
        return len(text)


@dataclass(frozen=True, slots=True)
class CharterResult:
    """Findings of one check, with the charter version, the counted length and the reserve status."""

    findings: tuple[Finding, ...]
    charter_version: int
    length: int
    limit: int
    reserve: ReserveStatus = ReserveStatus()

    @property
    def blocked(self) -> bool:
        """True if any finding blocks sending."""
        return any(f.severity is Severity.BLOCK for f in self.findings)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings that only warn (they send the message to approval)."""
        return tuple(f for f in self.findings if f.severity is Severity.WARN)

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes of the findings, in order."""
        return tuple(f.code for f in self.findings)

    def records(self) -> tuple[dict[str, Any], ...]:
        """Findings as plain dicts (stored with the draft for the audit)."""
        return tuple(f.to_dict() for f in self.findings)


Rule = Callable[[str, CheckContext, "CompiledCharter"], list[Finding]]
_RESERVE_LABELS = {"reserve_bilan": "valorise le bilan de la municipalité",
                   "reserve_candidate": "cite un candidat", "reserve_theme": "aborde un thème de campagne"}


def reserve_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """During the période de réserve, warn on bilan wording, candidates and campaign themes; from midnight on the
    eve of a round to the end of the ballot day, block them."""
    status = cc.reserve_at(ctx.now)
    if not status.active or not len(cc.reserve_terms):
        return []
    out = []
    for m in cc.reserve_terms.find(text, ctx.words(text)):
        code = m.payload
        if status.blackout:
            sev = cc.charter.severity("reserve_blackout")
            msg = (f"« {m.text} » {_RESERVE_LABELS[code]} : depuis minuit la veille du scrutin "
                   f"({status.election}), rien de lié à la campagne ne peut être publié.")
            code = "reserve_blackout"
        else:
            sev = cc.charter.severity(code)
            msg = (f"Période de réserve ({status.election}) : « {m.text} » {_RESERVE_LABELS[code]}. "
                   "Reformulez de façon neutre et factuelle ; la direction doit valider.")
        if sev is not Severity.OFF:
            out.append(Finding(code=code, severity=sev, start=m.start, end=m.end, message=msg))
    return out


def signature_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """The text ends with the author's signature and carries nobody else's."""
    if ctx.signature is None:
        return []
    return signature_findings(text, ctx.signature, ctx.other_signatures,
                              missing=cc.charter.severity("signature_missing"),
                              mismatch=cc.charter.severity("signature_mismatch"))


RULES_IN_ORDER: tuple[Rule, ...] = (
    rules_text.length_rule, rules_text.terms_rule, rules_text.caps_rule, rules_text.punctuation_rule,
    rules_text.personal_data_rule, rules_text.links_rule, rules_a11y.decorative_rule, rules_a11y.hashtag_rule,
    rules_a11y.position_rule, rules_a11y.emoji_count_rule, rules_a11y.alt_text_rule, rules_media.platform_media_rule,
    reserve_rule, signature_rule,
)


def clear_caches() -> None:
    """Forget memoised links/emoji/lengths (they only save repeated work within one check; benchmarks call
    this so that every timed check starts cold, like a new keystroke)."""
    for fn in (links._find_links, lengths._find_emoji, lengths.x_count):  # noqa: SLF001
        fn.cache_clear()


class CompiledCharter:
    """A charter with its term lists and lookups precompiled; build once per charter version."""

    def __init__(self, charter: Charter) -> None:
        """Precompile ``charter``."""
        self.charter = charter
        self.banned: TermIndex[Any] = TermIndex((t.term, t) for t in charter.banned)
        self.discouraged: TermIndex[Any] = TermIndex((t.term, t) for t in charter.discouraged)
        r = charter.reserve
        self.reserve_terms: TermIndex[str] = TermIndex(
            [(t, "reserve_bilan") for t in r.bilan_terms] + [(t, "reserve_candidate") for t in r.candidates]
            + [(t, "reserve_theme") for t in r.campaign_themes])
        self.allowed_domains = frozenset(d.lower() for d in charter.allowed_domains)
        self.hashtags = {h.casefold(): h for h in charter.hashtags}
        self.acronyms = frozenset(charter.acronyms)
        self._contact_emails = frozenset(c.casefold() for c in charter.allowed_contacts if "@" in c)
        self._contact_numbers = frozenset(self._digits(c) for c in charter.allowed_contacts if "@" not in c)

    @staticmethod
    def _digits(value: str) -> str:
        digits = "".join(_DIGITS.findall(value))
        return "0" + digits[2:] if digits.startswith("33") and len(digits) == 11 else digits

    def is_allowed_contact(self, found: str) -> bool:
        """True if ``found`` is one of the city's own contacts (allowed in replies)."""
        value = found.strip().casefold()
        if "@" in value:
            domain = value.rsplit("@", 1)[1]
            return value in self._contact_emails or any(
                domain == d or domain.endswith("." + d) for d in self.allowed_domains)
        digits = self._digits(value)
        return bool(digits) and digits in self._contact_numbers

    def reserve_at(self, now: datetime) -> ReserveStatus:
        """The période de réserve status at ``now``."""
        return reserve_status(self.charter.reserve, now)

    def check(self, text: str, ctx: CheckContext) -> CharterResult:
        """Run every rule on ``text``; findings sorted by position."""
        findings: list[Finding] = []
        for rule in RULES_IN_ORDER:
            findings.extend(rule(text, ctx, self))
        findings.sort(key=lambda f: (f.start, f.end, f.code))
        count = count_for(ctx.platform, text, self.charter.limit_for(ctx.platform))
        return CharterResult(tuple(findings), self.charter.version, count.length, count.limit,
                             self.reserve_at(ctx.now))
