"""French determiners agreeing with a suggested replacement (« le problème » → « la difficulté », never
« le difficulté » or « Le rénovation »: issue #17).

A charter term's replacement may be a noun of another gender than the term, or start with a vowel where the term
did not. When the term follows a determiner whose form depends on gender or elision (le/la/l', un/une, du/de la/
de l', au/à la/à l', ce/cet/cette, mon/ma, ton/ta, son/sa), the suggestion takes the determiner in and gives it
the replacement's form. The replacement's gender is the term's ``gender`` in the charter (``m`` or ``f``) or, when
not given, read from a few reliable French noun endings; when it stays unknown, no automatic fix is offered where
a gendered determiner precedes (a wrong article is worse than none). Decision: docs/decisions/0210-*.md.
"""

from __future__ import annotations

import re

_VOWEL_START = re.compile(r"^[aeiouyàâäéèêëîïôöûüùœæh]", re.IGNORECASE)
# A determiner right before the term: "le ", "l'", "de la ", "à l'", "cet "… (the last one before ``start``).
_DETERMINER = re.compile(
    r"(?:(?<=\W)|^)(?P<det>de\s+la|de\s+l['’]|à\s+la|à\s+l['’]|le|la|l['’]|un|une|du|au|ce|cet|cette|mon|ma|ton|"
    r"ta|son|sa)(?P<gap>\s*)$", re.IGNORECASE)
# Determiner family → (masculine, feminine, before a vowel) forms.
_FORMS: dict[str, tuple[str, str, str | None]] = {
    "def": ("le", "la", "l'"), "indef": ("un", "une", None), "partitive": ("du", "de la", "de l'"),
    "contracted": ("au", "à la", "à l'"), "demonstrative": ("ce", "cette", None),
    "mon": ("mon", "ma", "mon"), "ton": ("ton", "ta", "ton"), "son": ("son", "sa", "son")}
_FAMILY = {"le": "def", "la": "def", "l'": "def", "un": "indef", "une": "indef", "du": "partitive",
           "de la": "partitive", "de l'": "partitive", "au": "contracted", "à la": "contracted",
           "à l'": "contracted", "ce": "demonstrative", "cet": "demonstrative", "cette": "demonstrative",
           "mon": "mon", "ma": "mon", "ton": "ton", "ta": "ton", "son": "son", "sa": "son"}
_FEMININE_ENDINGS = ("tion", "sion", "xion", "ance", "ence", "ité", "ude", "ure", "esse", "ette", "ise", "aison")
_MASCULINE_ENDINGS = ("ment", "age", "isme", "eau", "oir", "ier", "ard")
_NOT_BY_ENDING = {"comité": "m", "côté": "m", "été": "m", "traité": "m", "pâturage": "m", "plage": "f",
                  "page": "f", "image": "f", "cage": "f", "rage": "f", "nage": "f", "eau": "f", "peau": "f",
                  "mur": "m", "futur": "m", "murmure": "m", "mercure": "m", "parjure": "m"}
_ARTICLE_START = re.compile(r"^(?:le|la|les|l['’]|un|une|des|du|de|ce|cet|cette|ces)\b", re.IGNORECASE)


def gender_of(noun_phrase: str, declared: str = "") -> str | None:
    """``m``, ``f`` or None (unknown): the declared gender, else the head noun's ending."""
    if declared in ("m", "f"):
        return declared
    words = re.findall(r"[^\W\d_]+", noun_phrase.lower())
    if not words:
        return None
    head = words[0]
    if head in _NOT_BY_ENDING:
        return _NOT_BY_ENDING[head]
    if head.endswith(_FEMININE_ENDINGS):
        return "f"
    if head.endswith(_MASCULINE_ENDINGS):
        return "m"
    return None


def _form(family: str, gender: str, vowel: bool) -> str:
    masculine, feminine, elided = _FORMS[family]
    if family == "demonstrative" and gender == "m" and vowel:
        return "cet"
    if vowel and elided is not None:
        return elided
    return masculine if gender == "m" else feminine


def _keep_case(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def agreeing(text: str, start: int, replacement: str, declared_gender: str = "") -> tuple[int, str | None]:
    """Where the suggestion for ``text[start:…]`` begins and what it says, determiner agreed.

    Returns ``(start, replacement)`` unchanged when no gendered determiner precedes the term (or the replacement
    brings its own article), ``(determiner_start, "la difficulté")`` when the determiner must change, and
    ``(start, None)`` when it would have to change but the replacement's gender is unknown."""
    if not replacement or _ARTICLE_START.match(replacement):
        return start, replacement or None
    found = _DETERMINER.search(text[:start])
    if found is None or (not found.group("gap") and not found.group("det").endswith(("'", "’"))):
        return start, replacement
    det = found.group("det")
    key = re.sub(r"\s+", " ", det.lower()).replace("’", "'")
    family = _FAMILY[key]
    gender = gender_of(replacement, declared_gender)
    if gender is None:
        return start, None
    new = _form(family, gender, bool(_VOWEL_START.match(replacement)))
    if new == key:
        return start, replacement
    joined = new if new.endswith("'") else new + " "
    return found.start("det"), _keep_case(joined, det) + replacement
