"""The audit page's details column reads an event's fields in French (the raw JSON stays in the exports)."""

from __future__ import annotations

import json

from console.ui.audit.events import readable


def test_a_moderation_act_reads_its_flags_and_risk_model_in_french():
    details = json.dumps({"act_id": 4, "action": "hide", "ground": "insult_defamation", "connector": "facebook",
                          "flags": ["insult", "threat"], "risk_model": "offline-toxicity-2+cac9ae7f+a2c545eb"})
    assert readable(details) == ("acte n° : 4 · action : masquer · motif : Injure ou diffamation · connecteur : "
                                 "facebook · signalements : Insulte, Menace · modèle de risque : offline-toxicity-2+"
                                 "cac9ae7f+a2c545eb")
    assert readable(json.dumps({"reason": "criticism", "flags": [], "risk_model": ""})) == (
        "raison : Critique légitime de la politique municipale · signalements : — · modèle de risque : —")


def test_a_value_that_is_no_known_code_is_shown_as_written():
    assert readable(json.dumps({"reason": "texte trop long", "action": "publish", "ground": "autre"})) == (
        "raison : texte trop long · action : publish · motif : autre")


def test_how_an_outcome_was_established_reads_in_french():
    assert readable(json.dumps({"act_id": 2, "via": "lookup"})) == (
        "acte n° : 2 · voie : vérification sur la plateforme")
