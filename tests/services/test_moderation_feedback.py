"""The team's moderation decisions become toxicity labels for ``train toxicity|rich --with-feedback``
(decision 0316): only a person's latest settling decision counts, and only when it says toxic or not."""

from __future__ import annotations

from dataclasses import replace

from click.testing import CliRunner

from core import repo
from core.models import PRIVATE_KIND
from services.moderation import actions
from services.moderation.feedback import toxicity_feedback
from tests.conftest import make_mention
from tests.services.test_moderation_queue import INSULT, _store, fake, settings  # noqa: F401 - fixtures


def test_decisions_that_say_toxic_or_not_become_labels(db, agents, now, fake, settings):  # noqa: F811
    julie = agents["julie"]
    hidden = _store(db, now, "Crétin de maire, dégage")
    criticism = _store(db, now, "Le maire est nul, sa politique du stationnement est une honte")
    unhidden = _store(db, now, "Bande d'abrutis à la mairie")
    handled = _store(db, now, "Espèce d'incapable")
    phone = _store(db, now, "Appelez Mme Martin au 06 12 34 56 78", flags=({"kind": "personal_data", "score": 0.8},))
    grouped = [_store(db, now, f"Les travaux rue {n} sont une catastrophe", author=f"r{n}") for n in (1, 2)]
    machine = _store(db, now, "Imbécile de service")
    actions.hide(db, settings, hidden, "insult_defamation", actor=julie, now=now)
    actions.dismiss(db, criticism, "criticism", actor=julie, now=now)
    actions.hide(db, settings, unhidden, "insult_defamation", actor=julie, now=now)
    actions.unhide(db, settings, unhidden, actor=julie, now=now)  # taken back: says nothing any more
    actions.dismiss(db, handled, "already_handled", actor=julie, now=now)
    actions.hide(db, settings, phone, "personal_data", actor=julie, now=now)
    actions.dismiss_many(db, grouped, "false_alarm", actor=julie, now=now)
    from core.repo import moderation_actions as decisions_repo

    decisions_repo.add_decision(db, machine, "hide", ground="insult_defamation", unlawful=True, flagged_at=now,
                                decided_at=now, agent_id=None)  # no person behind it: not a label
    assert toxicity_feedback(db) == [
        ("Crétin de maire, dégage", True),
        ("Le maire est nul, sa politique du stationnement est une honte", False),
        ("Les travaux rue 1 sont une catastrophe", False),
        ("Les travaux rue 2 sont une catastrophe", False),
    ]


def test_private_messages_never_become_labels(db, agents, now):
    message = replace(make_mention("t'es qu'un abruti", author="dm"), kind=PRIVATE_KIND)
    repo.upsert_mentions(db, [message], now=now, scores=[repo.Scores(risk_score=0.9, risk_flags=(INSULT,))])
    actions.dismiss(db, message.uid, "false_alarm", actor=agents["julie"], now=now)
    assert toxicity_feedback(db) == []


def test_train_toxicity_with_feedback_learns_the_town_hall_decisions(db, db_path, agents, now, fake, settings,  # noqa: F811
                                                                      tmp_path):
    from console.cli import _load_commands, cli
    from moderation.toxicity import ToxicityModel
    from tests.moderation.test_training import _mlma

    _load_commands()
    data = _mlma(tmp_path)
    hidden = ["gougnafier de maire", "les gougnafiers du conseil municipal", "encore un gougnafier à la voirie",
              "gougnafier va", "ce gougnafier d'adjoint", "quelle bande de gougnafiers"]
    for n, text in enumerate(hidden):  # a local insult MLMA never saw, hidden by the team six times
        uid = _store(db, now, text, author=f"g{n}")
        actions.hide(db, settings, uid, "insult_defamation", actor=agents["julie"], now=now)
    db.conn.commit()
    plain, taught = tmp_path / "plain.npz", tmp_path / "taught.npz"
    args = ["train", "toxicity", "--data-dir", str(data), "--db", str(db_path), "--json"]
    first = CliRunner().invoke(cli, [*args, "--out", str(plain)])
    second = CliRunner().invoke(cli, [*args, "--out", str(taught), "--with-feedback"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert '"feedback_rows": 6' in second.output and '"feedback_rows": 0' in first.output
    before, after = ToxicityModel(plain), ToxicityModel(taught)
    # the header's version (decision 0325: the reported one adds the file's digest after it)
    assert after.model.version.endswith("-fb6") and not before.model.version.endswith("-fb6")
    text = "quel gougnafier ce type"
    assert after.raw_probabilities([text])[0] > before.raw_probabilities([text])[0] + 0.1
    assert after.probabilities([text])[0] > 0.5 > before.probabilities([text])[0]  # now over its line
    from moderation.train_jobs import text_hash

    assert text_hash("gougnafier de maire") in after.model.meta["trained_hashes"]


def test_eval_risk_on_the_team_decisions(db, db_path, agents, now, fake, settings):  # noqa: F811
    """`eval risk --decisions`: how far the shipped model agrees with the team's own line, before any retraining."""
    import json

    from console.cli import _load_commands, cli

    _load_commands()
    julie = agents["julie"]
    insult = _store(db, now, "Espèce de connard de maire")
    actions.hide(db, settings, insult, "insult_defamation", actor=julie, now=now)
    fair = _store(db, now, "Merci pour la réponse rapide, le trottoir est réparé")
    actions.dismiss(db, fair, "false_alarm", actor=julie, now=now)
    db.conn.commit()
    result = CliRunner().invoke(cli, ["eval", "risk", "--decisions", "--backend", "fast", "--db", str(db_path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["data"].startswith("decisions:") and report["n"] == 2 and report["n_skipped"] == 0
    assert report["backend"] == "fast"
    assert report["toxic_recall"] == 1.0 and report["balanced_accuracy"] == 1.0  # both decisions agreed with
    neither = CliRunner().invoke(cli, ["eval", "risk", "--db", str(db_path)])
    assert neither.exit_code != 0 and "--decisions" in neither.output


def test_a_resident_who_asked_for_erasure_never_trains_a_model(db, agents, now, fake, settings):  # noqa: F811
    """The record keeps their messages and the decisions on them (art. 17(3)(d)); training is another purpose:
    neither the toxicity labels nor the sentiment corrections use them after an erasure request (decision 0316)."""
    from core.repo import moderation as moderation_repo
    from services.archive import rgpd

    julie = agents["julie"]
    theirs = _store(db, now, "Bande de nuls à la mairie", author="dora")
    other = _store(db, now, "Crétin de maire", author="eli")
    for uid in (theirs, other):
        actions.hide(db, settings, uid, "insult_defamation", actor=julie, now=now)
        moderation_repo.record_sentiment_feedback(db, uid, "negative", agent_id=julie.id, now=now)
    assert len(toxicity_feedback(db)) == 2 and len(moderation_repo.sentiment_feedback(db)) == 2
    rgpd.erasure_request(db, "@dora", actor=agents["marc"], now=now)
    assert toxicity_feedback(db) == [("Crétin de maire", True)]
    assert [f.text for f in moderation_repo.sentiment_feedback(db)] == ["Crétin de maire"]
    assert repo.get_item(db, theirs).mention.text == "Bande de nuls à la mairie"  # the record keeps it
