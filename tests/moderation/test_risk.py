"""Risk flags: the right kinds, with spans pointing at what the person wrote, French first."""

from __future__ import annotations

import pytest

from moderation.lexicon import RiskLexicon
from moderation.risk import RiskScorer, is_toxic, risk_score


@pytest.fixture(scope="module")
def scorer():
    return RiskScorer(protected_names=("Claire Dupont",))


def _kinds(scorer, text):
    return {f.kind: f for f in scorer.flags([text])[0]}


@pytest.mark.parametrize(("text", "kind", "trigger"), [
    ("Bande de connards à la mairie", "insult", "connards"),
    ("t'es qu'un c0nn4rd", "insult", "c0nn4rd"),
    ("espèce d'abrutiiiii", "insult", "abrutiiiii"),
    ("ce type est un attardé mental", "insult", "attardé"),
    ("you retard", "insult", "you retard"),
    ("Je sais où tu habites, fais gaffe", "threat", "Je sais où tu habites"),
    ("on va bruler la mairie ce soir", "threat", "on va bruler"),
    ("sale arabe retourne dans ton pays", "hate", "sale arabe"),
    ("Un arbre est tombé sur la route, c'est dangereux", "urgent", "dangereux"),
    ("Odeur de gaz très forte rue Pasteur", "urgent", "Odeur de gaz"),
    ("La cave est inondée depuis ce matin", "urgent", "inondée"),
    ("Gagnez un iPhone, cliquez ici bit.ly/abc", "spam", "bit.ly/abc"),
    ("je veux en finir, plus envie de vivre", "self_harm", "plus envie de vivre"),
    ("I will kill you", "threat", "I will kill you"),
    ("my house is flooded, emergency", "urgent", "emergency"),
    ("appelez-moi au 06 12 34 56 78", "personal_data", "06 12 34 56 78"),
])
def test_flag_kind_and_span(scorer, text, kind, trigger):
    flags = _kinds(scorer, text)
    assert kind in flags, flags
    flag = flags[kind]
    assert flag.score >= 0.5
    assert trigger in [text[s:e] for s, e in flag.spans]
    assert flag.reason


@pytest.mark.parametrize("text", [
    "Merci pour la fête de la musique, bravo !",
    "Au feu rouge de la place, rien à signaler",
    "Le feu d'artifice du 14 juillet était superbe",
    "Les migrants accueillis au gymnase ont besoin de couvertures",
    "Quels sont les horaires de la piscine ?",
    "Ce n'est pas urgent, mais le banc est abîmé",
    "Le feu d’artifice du 14 juillet était superbe",  # typographic apostrophe
    "Le rapport s'attarde sur le budget des écoles",  # the verb "s'attarder", not the insult "attardé"
    "je m’attarde sur les détails du plan local d'urbanisme",
    "Ne vous attardez pas sur le parvis pendant les travaux",
    "Le bus 12 est encore en retard ce matin",  # French "retard" (delay), not the English slur
])
def test_benign_texts_raise_no_flag(scorer, text):
    assert scorer.flags([text]) == [[]]


def test_harassment_needs_a_protected_person_and_an_attack(scorer):
    attacked = _kinds(scorer, "Claire Dupont est une pourriture, démissionne connasse")
    assert "harassment" in attacked
    text = "Claire Dupont est une pourriture, démissionne connasse"
    assert "Claire Dupont" in [text[s:e] for s, e in attacked["harassment"].spans]
    assert "harassment" not in _kinds(scorer, "Merci à Claire Dupont pour sa venue")
    assert "harassment" in _kinds(scorer, "le maire est un connard")  # a role, even unnamed


def test_self_harm_reason_routes_to_help(scorer):
    flag = _kinds(scorer, "je vais me suicider ce soir")["self_harm"]
    assert "3114" in flag.reason


def test_address_at_home_scores_higher_than_a_street_location(scorer):
    home = _kinds(scorer, "j'habite au 12 rue Victor Hugo")["personal_data"].score
    place = _kinds(scorer, "nid de poule devant le 12 rue Victor Hugo")["personal_data"].score
    assert home > place


def test_threat_outweighs_insult_in_overall_risk(scorer):
    threat = scorer.flags(["je vais te crever"])[0]
    insult = scorer.flags(["espèce de guignol, nul"])[0]
    assert risk_score(threat) > risk_score(insult) > 0
    assert is_toxic(threat)


def test_lexicon_edits_take_effect_without_code(tmp_path):
    path = tmp_path / "lexicon.toml"
    path.write_text('[insult]\nlabel = "Insulte"\nstrong = ["patate pourrie"]\n', encoding="utf-8")
    scorer = RiskScorer(lexicon=RiskLexicon.load(path))
    flags = scorer.flags(["Quelle PATATE pourrie ce type"])[0]
    assert [f.kind for f in flags] == ["insult"]


def test_toxicity_model_flags_without_lexicon_words():
    from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel

    if not DEFAULT_TOXICITY_PATH.exists():
        pytest.skip("toxicity model not built")
    model = ToxicityModel()
    low, high = model.probabilities(["Merci pour les horaires de la médiathèque",
                                     "ces gauchistes sont des attardés mentaux"])
    assert high > 0.5 > low
