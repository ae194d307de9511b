"""Suggested replacements agree with the determiner before them (issue #17: « Le rénovation »)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from console.ui.charter.rules import apply_suggestions
from editorial.articles import agreeing, gender_of
from editorial.charter import Term
from editorial.charter_yaml import charter_from_dict, charter_to_dict, default_charter
from tests.editorial.test_rules import check, only


def _fixed(text: str, term: Term) -> str:
    charter = replace(default_charter(), banned=(), discouraged=(term,))
    result = check(text + "\n— Julie", charter=charter)
    return apply_suggestions(text, tuple(only(result, "discouraged_term")))


@pytest.mark.parametrize(("text", "expected"), [
    ("Le chantier avance.", "La rénovation avance."),
    ("Merci pour le chantier.", "Merci pour la rénovation."),
    ("Un chantier commence.", "Une rénovation commence."),
    ("Ce chantier dure.", "Cette rénovation dure."),
    ("La fin du chantier.", "La fin de la rénovation."),
    ("Nous passons au chantier.", "Nous passons à la rénovation."),
    ("Chantier terminé.", "rénovation terminé."),  # no determiner: the word alone is replaced
])
def test_the_determiner_takes_the_replacements_gender(text, expected):
    assert _fixed(text, Term(term="chantier", replacement="rénovation")) == expected


def test_elision_and_the_default_charter():
    assert _fixed("L'ennui est là.", Term(term="ennui", replacement="souci", gender="m")) == "Le souci est là."
    assert _fixed("Le souci est là.", Term(term="souci", replacement="inquiétude", gender="f")) == (
        "L'inquiétude est là.")
    assert _fixed("Ce souci est là.", Term(term="souci", replacement="ennui", gender="m")) == "Cet ennui est là."
    (f,) = only(check("Le problème est réglé.\n— Julie"), "discouraged_term")  # default charter: « difficulté » f
    assert f.suggestion == "La difficulté" and f.start == 0 and "Proposition : « La difficulté »" in f.message


def test_unknown_gender_offers_no_wrong_article():
    start, suggestion = agreeing("le truc", 3, "bidule")
    assert (start, suggestion) == (3, None)
    (f,) = only(check("Le truc est là.\n— Julie", charter=replace(default_charter(), banned=(), discouraged=(
        Term(term="truc", replacement="bidule"),))), "discouraged_term")
    assert f.suggestion is None and "accordez le déterminant" in f.message
    assert agreeing("c'est bien", 6, "bidule") == (6, "bidule")  # no determiner: nothing to agree
    assert agreeing("le truc", 3, "une chose") == (3, "une chose")  # the replacement brings its article


def test_gender_from_the_charter_or_the_ending():
    assert gender_of("rénovation") == "f" and gender_of("aménagement") == "m" and gender_of("comité") == "m"
    assert gender_of("truc") is None and gender_of("truc", "f") == "f"
    charter = replace(default_charter(), discouraged=(Term(term="souci", replacement="gêne", gender="f"),))
    assert charter_from_dict(charter_to_dict(charter)).discouraged == charter.discouraged
