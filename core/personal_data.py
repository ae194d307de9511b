"""Find a resident's personal data in a text: French phone numbers, e-mails, postal addresses, IBANs, NIRs.

Pure and dependency-free (used by moderation's risk flags, the editorial charter and report redaction).
Numbers are checked, not only shaped: an IBAN must pass ISO 13616 mod-97 and have its country's length, a
social-security number (NIR) its 97-complement key, so dates, amounts, order and SIRET numbers that merely
look alike are not reported. Each :class:`Match` gives the exact span in the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("phone", "email", "address", "iban", "nir")
PLACEHOLDERS = {"phone": "[téléphone]", "email": "[e-mail]", "address": "[adresse]", "iban": "[IBAN]",
                "nir": "[n° de sécurité sociale]"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One piece of personal data: its kind, span ``text[start:end]`` and the matched value."""

    kind: str
    start: int
    end: int
    value: str


_SEP = r"[ \u00a0.\-]?"
_PHONE = re.compile(
    r"(?:(?:(?<![\w+])(?:\+|00)[ \u00a0]?33[ \u00a0.\-]?(?:\(0\)[ \u00a0.\-]?)?"
    r"|(?<![\w+])(?<!\d[ .\-])\(?0\)?)[1-9](?:" + _SEP + r"\d{2}){4}"
    r"|(?<![\w+])(?:\+|00)[ \u00a0]?(?:262|590|594|596|269|687|689)[ \u00a0.\-]?\d{3}(?:" + _SEP + r"\d{2}){3})"
    r"(?!\d)(?![.\-]\d)")
_PHONE_REF = re.compile(r"(?:commande|cde|cmd|n°|no\.?|num[ée]ro de (?:commande|dossier|suivi|colis)|r[ée]f\.?|"
                        r"r[ée]f[ée]rence|facture|dossier|ticket|suivi|colis|siret|siren|contrat|client)\s*[:#]?\s*$",
                        re.IGNORECASE)
_EMAIL = re.compile(
    r"(?<![\w.+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*"
    r"(?:@|\s?[\[(]\s?(?:at|arobase|chez)\s?[\])]\s?|\s(?:arobase|at)\s)"
    r"[A-Za-z0-9][A-Za-z0-9\-]*(?:(?:\.|\s?[\[(]\s?(?:dot|point)\s?[\])]\s?|\s(?:point|dot)\s)[A-Za-z0-9\-]+)*"
    r"(?:\.|\s?[\[(]\s?(?:dot|point)\s?[\])]\s?|\s(?:point|dot)\s)(?:com|fr|net|org|eu|info|io|me|be|ch|"
    r"[a-z]{2,6}(?=\W|$))(?![\w\-])", re.IGNORECASE)
_STREET_TYPES = (r"rue|avenue|av\.?|bd|boulevard|blvd|chemin|chem\.?|all[ée]e|impasse|imp\.?|place|pl\.|route|rte|"
                 r"quai|cours|square|sq\.?|passage|r[ée]sidence|r[ée]s\.?|lotissement|lot\.|hameau|chauss[ée]e|cit[ée]|"
                 r"villa|sentier|voie|rond-point|faubourg|fbg|promenade|esplanade|ruelle|mont[ée]e|mail|parvis|"
                 r"clos|domaine|lieu-dit|zone|za|zi|zac")
_NAME_WORD = r"(?:[A-Za-zÀ-ÖØ-öø-ÿ][\w'’\-]*)"
_ADDRESS = re.compile(
    r"(?<![\w,.])(\d{1,4})(?:\s?(?:bis|ter|quater|[abc])\b)?,?\s+"
    r"(?:" + _STREET_TYPES + r")(?!\w)\s+"
    r"(?!(?:de\s+)?(?:parking|libres?|disponibles?|assises?|pour|plus|en|au|à|a|et|ou)\b)"
    + _NAME_WORD + r"(?:[ \-]+" + _NAME_WORD + r"){0,5}"
    r"(?:,?\s+(?:\d{5})(?!\d)(?:\s+(?-i:[A-ZÀ-Ö])[\w'’\-]*(?:[ \-](?-i:[A-ZÀ-Ö])[\w'’\-]*){0,3})?)?",
    re.IGNORECASE)
_ADDRESS_STOP = re.compile(r"(?:\s+(?:et|ou|mais|car|donc|depuis|pour|avec|qui|que|est|sont|il|elle|on|je|nous|vous|"
                           r"ils|elles|c'est|n'est|y|a|à|ont|va|vont|fait|ce|cette|ces|ça|ca|merci|svp|hier|aujourd'hui|demain|"
                           r"matin|soir|devant|pr[eè]s|apr[eè]s|avant|quand|lorsque|tous|toutes|tout|"
                           r"personne|rien|jamais|pas|ne|n'|si|car|alors|comme|http\S*)\b.*)$",
                           re.IGNORECASE | re.DOTALL)
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2}\d{2}(?:[ \u00a0\-]?[A-Z0-9]{4}){2,7}(?:[ \u00a0\-]?[A-Z0-9]{1,3})?)"
                   r"(?![A-Za-z0-9])")
IBAN_LENGTHS = {"FR": 27, "MC": 27, "BE": 16, "DE": 22, "ES": 24, "IT": 27, "LU": 20, "CH": 21, "NL": 18, "PT": 25,
                "GB": 22, "IE": 22, "AT": 20, "GP": 27, "MQ": 27, "RE": 27, "GF": 27, "YT": 27, "NC": 27, "PF": 27}
_NIR = re.compile(r"(?<![\w])([1-478])[ .\-]?(\d{2})[ .\-]?(0[1-9]|1[0-2]|[2-9]\d)[ .\-]?(\d{2}|2[AaBb])"
                  r"[ .\-]?(\d{3})[ .\-]?(\d{3})(?:[ .\-]?(\d{2}))?(?![\w])")
_NIR_CONTEXT = re.compile(r"(?:s[ée]cu|s[ée]curit[ée] sociale|\bnir\b|carte vitale|\bssn\b|num[ée]ro d'assur[ée])",
                          re.IGNORECASE)


def iban_is_valid(candidate: str) -> bool:
    """ISO 13616 check: known country length (when known) and mod-97 == 1."""
    iban = re.sub(r"[\s\u00a0\-]", "", candidate).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", iban):
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def nir_key(first13: str) -> int:
    """The 2-digit key of a 13-character NIR (Corsica's 2A/2B counted as 19/18)."""
    number = first13.upper().replace("2A", "19").replace("2B", "18")
    return 97 - int(number) % 97


def nir_is_valid(candidate: str) -> bool:
    """True for a 15-character NIR whose key matches."""
    nir = re.sub(r"[\s.\-]", "", candidate).upper()
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{8}", nir):
        return False
    return nir_key(nir[:13]) == int(nir[13:])


def _phones(text: str) -> Iterable[Match]:
    for m in _PHONE.finditer(text):
        value = m.group(0)
        digits = re.sub(r"\D", "", value)
        compact = value.isdigit()
        if compact and _PHONE_REF.search(text[max(0, m.start() - 30):m.start()]):
            continue  # "commande n° 0612345678" is an order number
        if len(set(digits.lstrip("0"))) <= 1:
            continue  # 0000000000, 0111111111: placeholders
        yield Match(kind="phone", start=m.start(), end=m.end(), value=value)


def _emails(text: str) -> Iterable[Match]:
    for m in _EMAIL.finditer(text):
        yield Match(kind="email", start=m.start(), end=m.end(), value=m.group(0))


def _addresses(text: str) -> Iterable[Match]:
    for m in _ADDRESS.finditer(text):
        value = m.group(0)
        trimmed = _ADDRESS_STOP.sub("", value).rstrip(" ,.-")
        yield Match(kind="address", start=m.start(), end=m.start() + len(trimmed), value=trimmed)


def _valid_prefix(value: str) -> str | None:
    """The longest prefix of ``value`` (cut at a group boundary) that is a valid IBAN, if any."""
    cuts = [i for i, c in enumerate(value) if c in " \u00a0-"] + [len(value)]
    for cut in sorted(cuts, reverse=True):
        if cut >= 15 and iban_is_valid(value[:cut]):
            return value[:cut]
    return None


def _ibans(text: str) -> Iterable[Match]:
    for m in _IBAN.finditer(text):
        value = m.group(1).rstrip(" -")
        valid = _valid_prefix(value)
        if valid:
            yield Match(kind="iban", start=m.start(1), end=m.start(1) + len(valid), value=valid)
        elif value[:2].upper() == "FR" and len(re.sub(r"\W", "", value)) == 27 and re.search(
                r"\b(?:iban|rib)\b", text[max(0, m.start() - 25):m.start()], re.IGNORECASE):
            yield Match(kind="iban", start=m.start(1), end=m.start(1) + len(value), value=value)  # typo'd but stated


def _nirs(text: str) -> Iterable[Match]:
    for m in _NIR.finditer(text):
        value = m.group(0)
        has_key = m.group(7) is not None
        context = bool(_NIR_CONTEXT.search(text[max(0, m.start() - 40):m.start()]))
        if (has_key and nir_is_valid(value)) or context:
            yield Match(kind="nir", start=m.start(), end=m.end(), value=value)


_FINDERS = {"iban": _ibans, "nir": _nirs, "email": _emails, "phone": _phones, "address": _addresses}


def find_personal_data(text: str, *, kinds: Iterable[str] | None = None) -> list[Match]:
    """Every piece of personal data in ``text``, in text order; overlapping weaker matches are dropped.

    Priority on overlap: IBAN, NIR, e-mail, phone, address (an IBAN's digits are not also a phone number).
    """
    wanted = [k for k in _FINDERS if kinds is None or k in set(kinds)]
    kept: list[Match] = []
    for kind in wanted:
        for match in _FINDERS[kind](text):
            clashes = [k for k in kept if not (match.end <= k.start or match.start >= k.end)]
            if clashes and kind == "address" and all(k.start > match.start + 8 for k in clashes):
                end = min(k.start for k in clashes)  # an address running into a number: keep its head
                value = text[match.start:end].rstrip(" ,.-")
                match = Match(kind=kind, start=match.start, end=match.start + len(value), value=value)
                clashes = []
            if not clashes:
                kept.append(match)
    return sorted(kept, key=lambda m: (m.start, m.end))


def mask_personal_data(text: str, matches: Iterable[Match] | None = None) -> str:
    """``text`` with each match replaced by a neutral French placeholder (``[téléphone]``...)."""
    found = sorted(find_personal_data(text) if matches is None else matches, key=lambda m: m.start, reverse=True)
    for m in found:
        text = text[:m.start] + PLACEHOLDERS.get(m.kind, "[donnée personnelle]") + text[m.end:]
    return text
