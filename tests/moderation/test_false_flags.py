"""False flags on benign municipal messages (issue #17): <= 2 % for insult and hate, with the toxicity model the
demo and production use; the words seen in the console no longer flag."""

from __future__ import annotations

import pytest

from moderation.false_flags import false_flags, load_benign
from moderation.risk import RiskScorer
from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel


@pytest.fixture(scope="module")
def scorer() -> RiskScorer:
    assert DEFAULT_TOXICITY_PATH.exists()
    return RiskScorer(toxicity=ToxicityModel())


def test_the_benign_set_is_large_distinct_and_french():
    lines = load_benign()
    assert len(lines) >= 300 and len({line.text for line in lines}) == len(lines)
    assert all(not line.risks for line in lines)


def test_insult_and_hate_false_flags_at_most_2_percent(scorer):
    report = false_flags(scorer, load_benign())
    assert report.any_flag["insult"] <= 0.02, report.examples["insult"]
    assert report.any_flag["hate"] <= 0.02, report.examples["hate"]
    assert report.any_flag["threat"] <= 0.02, report.examples["threat"]


@pytest.mark.parametrize("text", [
    "Bonjour Ville de Valmont, pourriez-vous confirmer la fermeture de la piscine municipale pour travaux ?",
    "Pourrions-nous réserver la salle des fêtes ?",
    "Tout Montplaisir est dans le noir ce soir, c'est une panne ou c'est voulu ?",
    "TOUT BEAUREGARD EST DANS LE NOIR CE SOIR, C'EST UNE PANNE OU C'EST VOULU ?",
])
def test_the_false_positives_seen_in_the_console_are_gone(scorer, text):
    assert not {f.kind for f in scorer.flags([text])[0]} & {"insult", "hate"}


@pytest.mark.parametrize(("text", "kind"), [
    ("Bande de pourris à la mairie", "insult"),
    ("Ce connard de maire a encore augmenté les impôts", "insult"),
    ("Sales noirs, retournez dans votre pays", "hate"),
    ("Espèce de trisomique, t'es qu'un connard", "hate"),
    ("un jour quelqu'un va mettre le feu à la mairie", "threat"),
])
def test_real_insults_hate_and_threats_still_flag(scorer, text, kind):
    assert kind in {f.kind for f in scorer.flags([text])[0]}
