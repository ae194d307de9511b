"""Personal-data detection: French formats found with exact spans, look-alikes left alone."""

from __future__ import annotations

import pytest

from core.personal_data import find_personal_data, iban_is_valid, mask_personal_data, nir_is_valid
from moderation.personal_data_eval import evaluate, generate_cases


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("Appelez-moi au 06 12 34 56 78 svp", "phone", "06 12 34 56 78"),
    ("mon num 0612345678", "phone", "0612345678"),
    ("tel : 01.42.76.40.40", "phone", "01.42.76.40.40"),
    ("joignable au 07-81-22-33-44", "phone", "07-81-22-33-44"),
    ("+33 6 12 34 56 78 c'est moi", "phone", "+33 6 12 34 56 78"),
    ("+33612345678", "phone", "+33612345678"),
    ("au +33 (0)1 42 68 53 00", "phone", "+33 (0)1 42 68 53 00"),
    ("0033 6 12 34 56 78", "phone", "0033 6 12 34 56 78"),
    ("à la Réunion +262 692 12 34 56", "phone", "+262 692 12 34 56"),
    ("écrivez à jean.dupont@gmail.com merci", "email", "jean.dupont@gmail.com"),
    ("jean (at) orange.fr", "email", "jean (at) orange.fr"),
    ("marie arobase free point fr", "email", "marie arobase free point fr"),
    ("j'habite au 12 rue Victor Hugo, 75002 Paris depuis 10 ans", "address", "12 rue Victor Hugo, 75002 Paris"),
    ("au 3 bis avenue des Champs-Élysées est bloqué", "address", "3 bis avenue des Champs-Élysées"),
    ("5 place de la Mairie depuis hier", "address", "5 place de la Mairie"),
    ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", "iban", "FR76 3000 6000 0112 3456 7890 189"),
    ("rib: FR7630006000011234567890189", "iban", "FR7630006000011234567890189"),
    ("ma sécu 1 85 05 78 006 084 91", "nir", "1 85 05 78 006 084 91"),
])
def test_finds_personal_data_with_exact_span(text, kind, value):
    found = [m for m in find_personal_data(text) if m.kind == kind]
    assert found, f"no {kind} in {text!r}"
    assert text[found[0].start:found[0].end] == value == found[0].value


@pytest.mark.parametrize("text", [
    "Rendez-vous le 12/05/2024 à 14h30",
    "la facture de 1 234,56 € payée le 2024-05-12",
    "commande n° 0612345678 toujours pas livrée",
    "SIRET 123 456 789 00012",
    "colis 6A12345678901 bloqué",
    "numéro vert 0 800 123 456",
    "appelez le 15, le 17 ou le 112",
    "2 places de parking en moins, 3 rues plus loin",
    "La rue de la République est fermée",
    "Le code postal est 33000 pour Bordeaux",
    "suivez @mairie_lyon et https://www.lyon.fr/contact",
    "FR76 3000 6000 0112 3456 7890 188",  # IBAN with a wrong check digit
    "1 85 05 78 006 084 99",  # NIR with a wrong key
    "budget 2024 : 12 345 678 euros",
])
def test_look_alikes_are_not_personal_data(text):
    assert find_personal_data(text) == []


def test_checksums():
    assert iban_is_valid("FR76 3000 6000 0112 3456 7890 189")
    assert not iban_is_valid("FR76 3000 6000 0112 3456 7890 188")
    assert iban_is_valid("DE89370400440532013000")
    assert nir_is_valid("1 85 05 78 006 084 91")
    assert not nir_is_valid("1 85 05 78 006 084 36")


def test_corsican_nir_key_uses_19_and_18():
    from core.personal_data import nir_key

    key = nir_key("269052A004117")
    assert nir_is_valid(f"269052A004117{key:02d}")
    assert [m.kind for m in find_personal_data(f"numéro 2 69 05 2A 004 117 {key:02d}")] == ["nir"]


def test_mask_replaces_each_piece_with_a_french_placeholder():
    text = "Je suis au 06 12 34 56 78 ou jean@orange.fr"
    assert mask_personal_data(text) == "Je suis au [téléphone] ou [e-mail]"


def test_generated_set_meets_recall_and_precision_targets():
    report = evaluate(generate_cases(400, seed=11))
    assert report["recall"] >= 0.95, report["errors"]
    assert report["precision"] >= 0.95, report["errors"]
    assert set(report["per_kind"]) == {"phone", "email", "address", "iban", "nir"}
