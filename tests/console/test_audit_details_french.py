"""The audit page's details column reads an event's fields in French (the raw JSON stays in the exports)."""

from __future__ import annotations

import json

from console.ui.audit.events import readable


def test_a_moderation_act_reads_its_flags_and_risk_model_in_french():
    details = json.dumps({"act_id": 4, "action": "hide", "ground": "insult_defamation", "connector": "facebook",
                          "flags": ["insult", "threat"], "risk_model": "offline-toxicity-2+cac9ae7f+a2c545eb"})
    assert readable(details) == ("act_id : 4 · action : hide · motif : insult_defamation · connecteur : facebook · "
                                 "signalements : Insulte, Menace · modèle de risque : offline-toxicity-2+cac9ae7f+"
                                 "a2c545eb")
    assert readable(json.dumps({"reason": "criticism", "flags": [], "risk_model": ""})) == (
        "raison : criticism · signalements : — · modèle de risque : —")
