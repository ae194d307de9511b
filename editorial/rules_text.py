"""Text rules: length, listed terms, capitals, punctuation, personal data, links."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.personal_data import find_personal_data
from editorial.articles import agreeing
from editorial.charter import Finding, Severity, Term
from editorial.lengths import count_for
from editorial.links import find_links, host_allowed

if TYPE_CHECKING:
    from editorial.engine import CheckContext, CompiledCharter

_PLATFORM_NAMES = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "mastodon": "Mastodon",
                   "bluesky": "Bluesky", "demo": "la démo"}
_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’-]+\b")
_LETTER = re.compile(r"[^\W\d_]")
_PUNCT_RUN = re.compile(r"([!?])[!?]+|\.{4,}")
_PD_LABELS = {"phone": "un numéro de téléphone", "email": "une adresse e-mail", "address": "une adresse postale",
              "iban": "un IBAN", "nir": "un numéro de sécurité sociale"}


def length_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """The signed text must fit the platform, counted as the platform counts it."""
    sev = cc.charter.severity("length")
    count = count_for(ctx.platform, text, cc.charter.limit_for(ctx.platform))
    cc_count = count.length
    if sev is Severity.OFF or count.overflow_at is None:
        return []
    name = _PLATFORM_NAMES.get(str(ctx.platform), str(ctx.platform))
    return [Finding(code="length", severity=sev, start=count.overflow_at, end=len(text),
                    message=(f"Trop long pour {name} : {cc_count} caractères sur {count.limit} autorisés, "
                             f"signature comprise. Raccourcissez de {count.over} caractère"
                             f"{'s' if count.over > 1 else ''}."))]


def _term_finding(code: str, sev: Severity, text: str, start: int, end: int, found: str, term: Term) -> Finding:
    if code == "banned_term":
        msg = f"« {found} » est interdit par la charte"
    else:
        msg = f"« {found} » est déconseillé par la charte"
    msg += f" ({term.reason})." if term.reason else "."
    # The determiner before the term agrees with the replacement (« la difficulté », not « le difficulté »)
    fix_start, suggestion = agreeing(text, start, term.replacement, term.gender)
    if suggestion:
        msg += f" Proposition : « {suggestion} »."
    elif term.replacement:
        msg += f" Proposition : « {term.replacement} » (accordez le déterminant)."
    return Finding(code=code, severity=sev, start=fix_start, end=end, message=msg, suggestion=suggestion)


def terms_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Banned and discouraged terms (accent- and case-insensitive), with the suggested replacement."""
    out: list[Finding] = []
    words = ctx.words(text)
    for code, index in (("banned_term", cc.banned), ("discouraged_term", cc.discouraged)):
        sev = cc.charter.severity(code)
        if sev is Severity.OFF:
            continue
        for m in index.find(text, words):
            out.append(_term_finding(code, sev, text, m.start, m.end, m.text, m.payload))
    return out


def caps_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Shouting: too many capitals overall, or three all-caps words in a row (acronyms excepted)."""
    sev = cc.charter.severity("excessive_caps")
    if sev is Severity.OFF:
        return []
    body = text[: ctx.body_end(text)]
    words = [m for m in _CAPS_WORD.finditer(body) if m.group(0).strip("'’-") not in cc.acronyms
             and len(_LETTER.findall(m.group(0))) >= 2]
    letters = _LETTER.findall(body)
    upper = sum(1 for ch in letters if ch.isupper())
    best: list[re.Match[str]] = []
    run: list[re.Match[str]] = []
    for m in words:
        if run and body[run[-1].end():m.start()].strip(" ,;:!?.") != "":
            run = []
        run.append(m)
        if len(run) > len(best):
            best = list(run)
    shouting = len(best) >= 3
    if not shouting and not (len(letters) >= cc.charter.caps_min_letters
                             and upper / max(len(letters), 1) > cc.charter.caps_max_ratio and words):
        return []
    start, end = (best[0].start(), best[-1].end()) if shouting else (words[0].start(), words[-1].end())
    span = body[start:end]
    fixed = span[:1] + span[1:].lower()
    return [Finding(code="excessive_caps", severity=sev, start=start, end=end, suggestion=fixed,
                    message="Évitez les majuscules en série : elles se lisent comme un cri et gênent la lecture.")]


def punctuation_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Repeated ``!``/``?`` or runs of dots."""
    sev = cc.charter.severity("excessive_punctuation")
    if sev is Severity.OFF:
        return []
    out = []
    for m in _PUNCT_RUN.finditer(text):
        fix = "…" if m.group(0).startswith(".") else m.group(0)[0]
        out.append(Finding(code="excessive_punctuation", severity=sev, start=m.start(), end=m.end(), suggestion=fix,
                           message=f"Ponctuation excessive « {m.group(0)} » : un seul signe suffit."))
    return out


def _span_fields(span: object) -> tuple[int, int, str, str]:
    if isinstance(span, dict):
        return int(span["start"]), int(span["end"]), str(span.get("kind", "")), str(span.get("text", ""))
    if isinstance(span, tuple):
        start, end, kind = (tuple(span) + ("",))[:3]
        return int(start), int(end), str(kind), ""
    return (int(getattr(span, "start")), int(getattr(span, "end")), str(getattr(span, "kind", "")),  # noqa: B009
            str(getattr(span, "text", "")))


def personal_data_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """A reply never publishes a resident's phone, e-mail, address, IBAN or NIR (the city's own contacts are
    allowed: charter ``allowed_contacts`` and e-mails on allowed domains). In a private answer (``ctx.private``)
    the rule warns instead of blocking: asking for or confirming an address there is the right thing, and a
    warning still sends the answer to approval (issue #20)."""
    sev = cc.charter.severity("personal_data")
    if sev is Severity.OFF:
        return []
    if ctx.private:
        return _private_personal_data(text, cc)
    out = []
    for span in find_personal_data(text):
        start, end, kind, _ = _span_fields(span)
        found = text[start:end]
        if cc.is_allowed_contact(found):
            continue
        what = _PD_LABELS.get(str(kind).lower(), "une donnée personnelle")
        out.append(Finding(code="personal_data", severity=sev, start=start, end=end, suggestion="",
                           message=(f"La réponse contient {what} (« {found} ») : ne publiez jamais les données "
                                    "personnelles d'un administré ; proposez-lui d'écrire en message privé.")))
    return out


def _private_personal_data(text: str, cc: CompiledCharter) -> list[Finding]:
    out = []
    for span in find_personal_data(text):
        start, end, kind, _ = _span_fields(span)
        found = text[start:end]
        if cc.is_allowed_contact(found):
            continue
        what = _PD_LABELS.get(str(kind).lower(), "une donnée personnelle")
        out.append(Finding(code="personal_data", severity=Severity.WARN, start=start, end=end, suggestion="",
                           message=(f"Message privé : la réponse contient {what} (« {found} »). Vérifiez qu'elle "
                                    "est nécessaire et qu'elle concerne bien la personne à qui vous écrivez.")))
    return out


def links_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Links only to the charter's allowed domains (subdomains included)."""
    sev = cc.charter.severity("link_not_allowed")
    if sev is Severity.OFF or "." not in text:
        return []
    out = []
    for link in find_links(text, include_short=True):
        if "@" in text[max(0, link.start - 1):link.start]:
            continue
        if host_allowed(link.host, cc.allowed_domains):
            continue
        allowed = ", ".join(cc.charter.allowed_domains) or "aucun domaine autorisé"
        out.append(Finding(code="link_not_allowed", severity=sev, start=link.start, end=link.end,
                           message=(f"Lien vers « {link.host} » : seuls les sites autorisés par la charte peuvent "
                                    f"être cités ({allowed}).")))
    return out
