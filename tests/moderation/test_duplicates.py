"""Near-duplicate grouping (moderation/duplicates.py) and its measured threshold."""

from __future__ import annotations

from pathlib import Path

from moderation import duplicates

DATA = Path(__file__).resolve().parents[2] / "console" / "bench" / "data" / "near_duplicates_fr.jsonl"


def test_copies_with_light_edits_group_and_paraphrases_do_not():
    texts = ["Les poubelles de la rue des Lilas n'ont pas été ramassées depuis une semaine !",
             "@mairie_valmont les poubelles de la rue des lilas n'ont pas ete ramassees depuis une semaine !!!",
             "RT Les poubelles de la rue des Lilas n'ont pas été ramassées depuis une semaine ! #Valmont",
             "Toujours pas de ramassage des poubelles dans mon quartier, ça sent mauvais",
             "Lampadaire éteint avenue Foch"]
    assert duplicates.near_duplicate_groups(texts) == [(0, 1, 2)]
    assert duplicates.near_copies_of(texts[0], texts[1:]) == [0, 1]
    assert duplicates.near_copies_of("", texts) == [] and duplicates.near_copies_of(texts[0], []) == []


def test_the_shipped_threshold_is_the_one_chosen_on_the_fit_half():
    report = duplicates.measure_threshold(DATA)
    assert report["chosen"] == duplicates.SIMILARITY and report["groups"] == 240
    assert report["fit"]["f1"] >= 0.95 and report["test"]["f1"] >= 0.95  # the other half confirms it
