"""Risk flags: each with a score in [0, 1], the text spans that triggered it and a French reason.

Kinds: ``insult`` (insult / toxicity), ``threat`` (threat or incitement to violence), ``hate`` (hate or
discrimination), ``harassment`` (an elected official or agent named and attacked), ``personal_data`` (a
resident's phone, e-mail, address, IBAN or social-security number), ``urgent`` (safety report: fire, flood,
gas, accident, fallen tree, danger...), ``spam`` (scam links, bait) and ``self_harm`` (distress: route to help,
not to moderation). Lexicon hits combine as a noisy-OR: ``1 - Π(1 - s)`` with s = 0.85 for a strong entry and
0.3 for a weak one; the ``insult`` score is the higher of that and the toxicity classifier's probability
(moderation/toxicity.py); the model alone raises it only from ``MODEL_ALONE_MIN``. Weak ``hate`` words (names of
groups) count only next to an insult (a strong insult entry, two weak ones, or the model at ``MODEL_ALONE_MIN``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.personal_data import Match, find_personal_data
from moderation.lexicon import STRONG, Hit, RiskLexicon, compile_terms
from moderation.text import fold, fold_with_offsets

KINDS = ("threat", "self_harm", "hate", "urgent", "harassment", "insult", "personal_data", "spam")
HIT_SCORE = {STRONG: 0.85, "weak": 0.3}
# How much each kind weighs in the mention's overall risk score (and so in its priority)
KIND_WEIGHT = {"threat": 1.0, "self_harm": 1.0, "hate": 0.95, "urgent": 0.95, "harassment": 0.9, "insult": 0.8,
               "personal_data": 0.7, "spam": 0.5}
PERSONAL_DATA_SCORE = {"iban": 0.95, "nir": 0.95, "phone": 0.8, "email": 0.8, "address": 0.6}
FLAG_MIN = 0.3  # flags below this score are not reported
# The toxicity model alone (no lexicon hit) raises the insult flag only from this calibrated probability, and only
# then makes weak hate words (names of groups) count: on ordinary municipal messages its 0.5 line flagged 11 % of
# a benign set (« dans le noir », « droits des femmes »); measured in BENCHMARKS.md (issue #17).
MODEL_ALONE_MIN = 0.6
_LINK = re.compile(r"(?:https?://|www\.)\S+|(?<![@\w.])(?:[a-z0-9-]+\.)+(?:[a-z]{2,6})/\S*|"
                   r"(?<![@\w.])(?:[a-z0-9-]+\.)+(?:com|net|org|fr|io|ly|me|xyz|top|click|ru|cn|tk|shop|live)\b",
                   re.IGNORECASE)
_HOME = re.compile(r"(?:j'?\s?habite|mon adresse|chez moi|mon domicile|ma maison|notre maison|devant chez)",
                   re.IGNORECASE)
_FR_PD = {"phone": "téléphone", "email": "e-mail", "address": "adresse postale", "iban": "IBAN",
          "nir": "numéro de sécurité sociale"}
REASONS = {
    "insult": "Propos injurieux ou toxiques",
    "threat": "Menace ou appel à la violence",
    "hate": "Propos haineux ou discriminatoires",
    "harassment": "Attaque personnelle visant un élu ou un agent",
    "urgent": "Signalement urgent touchant à la sécurité : à transmettre au service concerné",
    "spam": "Spam ou tentative d'arnaque",
    "self_harm": ("Détresse ou idées suicidaires : orienter vers le 3114 (prévention du suicide, 24 h/24), "
                  "ce n'est pas un cas de modération"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFlag:
    """One risk found in a text."""

    kind: str
    score: float
    spans: tuple[tuple[int, int], ...] = ()
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON-able form stored in ``Scores.risk_flags``."""
        return {"kind": self.kind, "score": round(self.score, 3), "spans": [list(s) for s in self.spans],
                "reason": self.reason}


def noisy_or(scores: Iterable[float]) -> float:
    """``1 - Π(1 - s)``: several independent signals add up without exceeding 1."""
    rest = 1.0
    for s in scores:
        rest *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - rest


def _lexicon_flag(kind: str, hits: Sequence[Hit], reason: str) -> RiskFlag | None:
    if not hits:
        return None
    score = noisy_or(HIT_SCORE[h.strength] for h in hits)
    words = ", ".join(dict.fromkeys(f"« {h.text} »" for h in hits[:4]))
    return RiskFlag(kind=kind, score=score, spans=tuple((h.start, h.end) for h in hits),
                    reason=f"{reason} ({words})")


@dataclass(slots=True)
class RiskScorer:
    """Computes the flags of texts from the lexicon, the personal-data detector and the toxicity model."""

    lexicon: RiskLexicon = field(default_factory=RiskLexicon.load)
    protected_names: tuple[str, ...] = ()
    toxicity: Any = None  # moderation.toxicity.ToxicityModel or None
    _names: re.Pattern[str] | None = None
    _roles: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        section = self.lexicon.categories.get("harassment")
        names = list(self.protected_names) + (list(section.extra.get("names", [])) if section else [])
        self._names = compile_terms(n for n in names if n.strip())
        self._roles = compile_terms(section.extra.get("roles", [])) if section else None

    @property
    def model_version(self) -> str:
        """What decides the flags, stored with each score as ``risk_model_version`` (decision 0325): the toxicity
        model's version (its header's and its file's digests) then the lexicon's (``lexicon-<digest>``: threats,
        urgency, personal data and the insults it lists come from it), or the lexicon's alone when no toxicity
        model is loaded."""
        if self.toxicity is None:
            return self.lexicon.version
        return f"{self.toxicity.version}/{self.lexicon.version}"

    def flags(self, texts: Sequence[str]) -> list[list[RiskFlag]]:
        """The flags of each text (highest score first)."""
        toxic = self.toxicity.predict_scores(texts) if self.toxicity is not None and texts else [None] * len(texts)
        return [self._flags_one(text, tox) for text, tox in zip(texts, toxic, strict=True)]

    def _flags_one(self, text: str, toxicity: tuple[float, tuple[tuple[int, int], ...]] | None) -> list[RiskFlag]:
        hits = self.lexicon.scan(text)
        out: dict[str, RiskFlag] = {}
        insult = _lexicon_flag("insult", hits.get("insult", []), REASONS["insult"])
        if toxicity is not None:
            prob, spans = toxicity
            if insult is None and prob >= MODEL_ALONE_MIN:  # below it the model alone says nothing
                insult = RiskFlag(kind="insult", score=prob, spans=spans,
                                  reason=f"{REASONS['insult']} (modèle de toxicité : {prob:.0%})")
            elif insult is not None and prob > insult.score:
                # max, not noisy-OR: chosen by cross-validation (docs/moderation.md)
                insult = RiskFlag(kind="insult", score=prob, spans=insult.spans, reason=insult.reason)
        if insult:
            out["insult"] = insult
        lexicon_insult = any(h.strength == STRONG for h in hits.get("insult", [])) or len(hits.get("insult", [])) > 1
        insulting = insult is not None and (lexicon_insult or insult.score >= MODEL_ALONE_MIN)
        for kind in ("threat", "hate", "urgent", "self_harm"):
            found = hits.get(kind, [])
            if kind == "hate" and not insulting and not any(h.strength == STRONG for h in found):
                found = []  # naming a group ("migrants", "musulmans") is not hate without an insult
            flag = _lexicon_flag(kind, found, REASONS[kind])
            if flag:
                out[kind] = flag
        spam = self._spam(text, hits.get("spam", []))
        if spam:
            out["spam"] = spam
        pd = self._personal_data(text)
        if pd:
            out["personal_data"] = pd
        harassment = self._harassment(text, out)
        if harassment:
            out["harassment"] = harassment
        flags = [f for f in out.values() if f.score >= FLAG_MIN]
        return sorted(flags, key=lambda f: (-f.score, KINDS.index(f.kind)))

    def _spam(self, text: str, hits: list[Hit]) -> RiskFlag | None:
        section = self.lexicon.categories.get("spam")
        extra = section.extra if section else {}
        links = list(_LINK.finditer(text))
        if not links:
            hits = [h for h in hits if h.strength == STRONG]  # "gratuit", "offre" alone are not spam
        scores = [HIT_SCORE[h.strength] for h in hits]
        spans = [(h.start, h.end) for h in hits]
        for m in links:
            url = m.group(0).lower()
            host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url).split("/")[0]
            if host in extra.get("shorteners", []) or any(host.endswith(t) for t in extra.get("suspicious_tlds", [])):
                scores.append(0.6)
                spans.append((m.start(), m.end()))
        if links and hits:
            scores.append(0.3)  # bait words together with a link
            spans.extend((m.start(), m.end()) for m in links)
        if len(links) >= 3:
            scores.append(0.4)
        if not scores:
            return None
        return RiskFlag(kind="spam", score=noisy_or(scores), spans=tuple(sorted(set(spans))), reason=REASONS["spam"])

    @staticmethod
    def _personal_data(text: str) -> RiskFlag | None:
        found: list[Match] = find_personal_data(text)
        if not found:
            return None
        scores = []
        for m in found:
            score = PERSONAL_DATA_SCORE.get(m.kind, 0.6)
            if m.kind == "address" and _HOME.search(text[max(0, m.start - 30):m.start]):
                score = 0.9  # "j'habite au 12 rue..." is the resident's home
            scores.append(score)
        kinds = ", ".join(dict.fromkeys(_FR_PD.get(m.kind, m.kind) for m in found))
        return RiskFlag(kind="personal_data", score=max(scores), spans=tuple((m.start, m.end) for m in found),
                        reason=f"Données personnelles exposées ({kinds}) : proposer de masquer le message "
                               "pour protéger l'habitant")

    def _harassment(self, text: str, flags: dict[str, RiskFlag]) -> RiskFlag | None:
        attack = [flags[k] for k in ("insult", "threat", "hate") if k in flags and flags[k].score >= 0.5]
        if not attack:
            return None
        folded, index = fold_with_offsets(text)
        targets: list[tuple[int, int]] = []
        named = False
        for pattern, is_name in ((self._names, True), (self._roles, False)):
            if pattern is None:
                continue
            for m in pattern.finditer(folded):
                targets.append((index[m.start()], index[m.end() - 1] + 1))
                named = named or is_name
        if not targets:
            return None
        score = max(f.score for f in attack) * (1.0 if named else 0.85)
        who = ", ".join(dict.fromkeys(f"« {text[s:e]} »" for s, e in targets[:3]))
        spans = tuple(sorted(set(targets) | {s for f in attack for s in f.spans}))
        return RiskFlag(kind="harassment", score=score, spans=spans, reason=f"{REASONS['harassment']} ({who})")


def risk_score(flags: Sequence[RiskFlag]) -> float:
    """The mention's overall risk: the highest flag score weighted by its kind."""
    return max((f.score * KIND_WEIGHT.get(f.kind, 0.5) for f in flags), default=0.0)


def is_toxic(flags: Sequence[RiskFlag], threshold: float = 0.5) -> bool:
    """Whether the flags make the text toxic (insult, threat or hate at or above ``threshold``)."""
    return any(f.kind in ("insult", "threat", "hate") and f.score >= threshold for f in flags)


def protected_names_from(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Parse ``PARVIS_PROTECTED_NAMES`` (comma-separated) or a list into clean names."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(n.strip() for n in items if fold(n).strip())
