"""Charter YAML: round trip, validation messages naming the field, saved-reply templates."""

from __future__ import annotations

import re

import pytest

from core.errors import ValidationError
from editorial.charter import Severity
from editorial.charter_yaml import charter_from_dict, default_charter, dump_yaml, load_yaml
from editorial.templates import render_template, validate_template, variables_in
from tests.french import raises_fr


def test_default_charter_round_trips_through_yaml():
    charter = default_charter()
    text = dump_yaml(charter)
    assert text.startswith("# Charte éditoriale — Ville de Valmont — version 0")
    assert "réalisations" in text  # UTF-8, not escaped
    assert load_yaml(text) == charter


@pytest.mark.parametrize(("yaml_text", "field"), [
    ("rules: {lenght: block}", "« rules.lenght »"),
    ("rules: {length: maybe}", "« rules.length »"),
    ("limits: {x: -3}", "« limits.x »"),
    ("limits: {myspace: 3}", "« limits.myspace »"),
    ("terms: {banned: [{term: ''}]}", "« terms.banned[0].term »"),
    ("terms: {banned: ['ab*']}", "« terms.banned[0].term »"),
    ("reserve: {elections: [{name: M, rounds: [2026-13-01]}]}", "« reserve.elections[0].rounds[0] »"),
    ("capitals: {max_ratio: 3}", "« capitals.max_ratio »"),
    ("allowed_domains: valmont.fr", "« allowed_domains »"),
])
def test_invalid_charters_name_the_field(yaml_text, field):
    with raises_fr(ValidationError, re.escape(field)):
        load_yaml(yaml_text)


def test_unreadable_yaml():
    with raises_fr(ValidationError, "YAML illisible"):
        load_yaml("rules: [unclosed")


def test_minimal_charter_gets_defaults():
    charter = charter_from_dict({"terms": {"banned": ["zut"]}, "allowed_domains": ["www.Valmont.fr"]}, version=4)
    assert charter.version == 4 and charter.severity("banned_term") is Severity.BLOCK
    assert charter.allowed_domains == ("valmont.fr",) and charter.banned[0].term == "zut"


def test_templates():
    body = "Bonjour {prenom}, le service {service} vous répond : {lien}"
    validate_template("Réponse type", body)
    assert variables_in(body) == ("prenom", "service", "lien")
    assert render_template(body, {"prenom": "Camille", "service": "Propreté", "lien": "https://valmont.fr"}) == (
        "Bonjour Camille, le service Propreté vous répond : https://valmont.fr")
    assert render_template("Bonjour {prenom}, merci !", {}) == "Bonjour, merci !"
    with raises_fr(ValidationError, "Variable inconnue {nom}"):
        validate_template("x", "Bonjour {nom}")
    with raises_fr(ValidationError, "titre"):
        validate_template(" ", "Bonjour")
