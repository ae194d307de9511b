"""Legal grounds and rules for moderation decisions (the service side of the moderation queue page).

Every hide, delete or ban records one ground from :data:`GROUNDS`, each tied to its legal basis; disagreeing with
the city is not a ground. Hiding or banning an elected official or an opposition councillor needs the
director's second confirmation (the opposition keeps a right of expression in municipal publications,
CGCT art. L.2121-27-1). Since ECHR Grand Chamber *Sanchez v. France* (15 May 2023) the holder of a page is
liable for unlawful comments left up once aware of them, hence the time-to-action measure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import ValidationError


class Ground(enum.StrEnum):
    """Why a message was hidden, deleted or its author banned."""

    INSULT_DEFAMATION = "insult_defamation"
    DISCRIMINATION = "discrimination"
    THREAT = "threat"
    PERSONAL_DATA = "personal_data"
    SPAM = "spam"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalGround:
    """A ground, its French label, its legal basis and the risk flags that suggest it."""

    code: Ground
    label_fr: str
    basis_fr: str
    flag_kinds: tuple[str, ...]
    unlawful: bool  # content the page holder must remove promptly once aware (Sanchez v. France)


GROUNDS: tuple[LegalGround, ...] = (
    LegalGround(code=Ground.INSULT_DEFAMATION, label_fr="Injure ou diffamation",
                basis_fr="Loi du 29 juillet 1881 sur la liberté de la presse, art. 29 et 33 (injure), 29 et 32 "
                         "(diffamation)", flag_kinds=("insult", "harassment"), unlawful=True),
    LegalGround(code=Ground.DISCRIMINATION, label_fr="Provocation à la haine ou à la discrimination",
                basis_fr="Loi du 29 juillet 1881, art. 24 al. 7 et 8 ; code pénal, art. 225-1",
                flag_kinds=("hate",), unlawful=True),
    LegalGround(code=Ground.THREAT, label_fr="Menace ou appel à la violence",
                basis_fr="Code pénal, art. 222-17 et 433-3 (menaces, y compris contre un élu ou un agent public) ; "
                         "loi du 29 juillet 1881, art. 24", flag_kinds=("threat",), unlawful=True),
    LegalGround(code=Ground.PERSONAL_DATA, label_fr="Données personnelles d'un habitant",
                basis_fr="RGPD, art. 5 et 17 ; loi Informatique et Libertés — masqué pour protéger la personne",
                flag_kinds=("personal_data",), unlawful=False),
    LegalGround(code=Ground.SPAM, label_fr="Spam, arnaque ou publicité sans rapport",
                basis_fr="Charte de modération de la page ; code pénal, art. 313-1 (escroquerie) pour les arnaques",
                flag_kinds=("spam",), unlawful=False),
)
_BY_CODE = {g.code.value: g for g in GROUNDS}
NOT_A_GROUND_FR = "Un désaccord avec la ville ou une critique de sa politique n'est pas un motif de masquage."
OPPOSITION_WARNING_FR = ("Ce compte est celui d'un élu. L'opposition dispose d'un droit d'expression dans les "
                         "publications municipales (CGCT, art. L.2121-27-1) : masquer ou bannir ce compte demande "
                         "la confirmation de la direction de la communication.")
RESTRICTIVE_ACTIONS = frozenset({"hide", "delete", "ban"})
DISMISS_REASONS_FR = {
    "not_offending": "Pas de contenu illicite après lecture",
    "criticism": "Critique légitime de la politique municipale",
    "already_handled": "Déjà traité",
    "false_alarm": "Fausse alerte du filtre",
}


# What a person's moderation decision says about a message's toxicity (``train --with-feedback``, decision 0316)
TOXIC_GROUNDS = frozenset({Ground.INSULT_DEFAMATION.value, Ground.DISCRIMINATION.value, Ground.THREAT.value})
NOT_TOXIC_DISMISSALS = frozenset({"not_offending", "criticism", "false_alarm"})
# the decisions that settle a message's state; the latest of them is the team's last word on it
SETTLING_ACTIONS = ("hide", "unhide", "delete", "ban", "unban", "dismiss", "spam")


def toxicity_label(action: str, ground: str | None, detail: str) -> bool | None:
    """Toxic or not, as the team's latest settling decision on a message says it: hidden, deleted or its author
    banned for insult or defamation, hate or threat → toxic; dismissed after reading as not offending, as
    legitimate criticism or as a false alarm of the filter → not toxic; anything else (unhidden, spam, personal
    data, « déjà traité ») says nothing (None)."""
    if action in RESTRICTIVE_ACTIONS:
        return True if ground in TOXIC_GROUNDS else None
    if action == "dismiss":
        return False if detail.split(" ", 1)[0] in NOT_TOXIC_DISMISSALS else None
    return None


def ground(code: str) -> LegalGround:
    """The ground for ``code``; ValidationError (naming the valid ones) otherwise."""
    try:
        return _BY_CODE[code]
    except KeyError:
        valid = ", ".join(_BY_CODE)
        raise ValidationError(f"unknown moderation ground {code!r}: choose one of {valid}", reason="ground_unknown",
                              ground=code, valid=list(_BY_CODE)) from None


def suggested_grounds(flags: tuple[dict[str, object], ...] | list[dict[str, object]]) -> list[LegalGround]:
    """Grounds matching a mention's risk flags, strongest flag first (pre-selects the page's reason list)."""
    out: list[LegalGround] = []
    for flag in sorted(flags, key=lambda f: -float(f.get("score", 0) or 0)):
        for g in GROUNDS:
            if flag.get("kind") in g.flag_kinds and g not in out:
                out.append(g)
    return out


def needs_director_confirmation(action: str, *, author_is_elected: bool) -> bool:
    """Hiding, deleting or banning an elected official's message needs the director's confirmation."""
    return author_is_elected and action in RESTRICTIVE_ACTIONS


def time_to_action(flagged_at: datetime, decided_at: datetime) -> timedelta:
    """Time from the flag to the team's decision (never negative)."""
    return max(decided_at - flagged_at, timedelta(0))


def within_target(flagged_at: datetime, decided_at: datetime | None, now: datetime, *,
                  target: timedelta = timedelta(hours=1)) -> bool:
    """Whether an item flagged unlawful was (or still can be) decided within ``target``."""
    return time_to_action(flagged_at, decided_at or now) <= target
