"""Similar answers, signed by the city (services/inbox/similar.py, m171's ``answered_fts``, decision 0171)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from core import repo
from core.db import write_transaction
from core.models import DraftState
from services.inbox import similar
from tests.conftest import make_mention


def _answered(db, agent, now, text, reply, *, sent=True, conversation=None):
    m = make_mention(text, conversation_id=conversation)
    repo.upsert_mentions(db, [m], now=now)
    draft = repo.create_draft(db, mention_uid=m.uid, author_id=agent.id, body=reply, signed_text=reply + " ^JM",
                              platform=m.platform, now=now)
    if sent:
        repo.save_draft(db, dataclasses.replace(draft, state=DraftState.SENT, sent_at=now + timedelta(hours=1)))
    return m


def test_the_closest_answered_conversations_come_with_their_signed_reply_and_date(db, agents, now):
    julie = agents["julie"]
    bins = _answered(db, julie, now, "Les poubelles de la rue des Lilas ne sont pas ramassées",
                     "Bonjour, le service propreté passera demain.")
    _answered(db, julie, now, "Lampadaire éteint avenue Foch", "Bonjour, la réparation est prévue cette semaine.")
    _answered(db, julie, now, "Poubelles pas ramassées encore", "Pas encore envoyée", sent=False)
    new = make_mention("Toujours pas de ramassage des poubelles dans ma rue")
    repo.upsert_mentions(db, [new], now=now)
    found = similar.similar_answers(db, repo.get_item(db, new.uid), viewer=julie)
    assert [a.mention_uid for a in found] == [bins.uid]  # the unsent draft is not an answer; the lamp is not close
    (answer,) = found
    assert answer.reply == "Bonjour, le service propreté passera demain. ^JM"
    assert answer.body == "Bonjour, le service propreté passera demain."  # what « Reprendre » copies
    assert answer.sent_at == now + timedelta(hours=1) and answer.text.startswith("Les poubelles")


def test_the_reply_words_count_too_and_three_distinct_conversations_at_most(db, agents, now):
    julie = agents["julie"]
    for i in range(3):
        _answered(db, julie, now, f"Question {i} sur les repas du midi", "Inscription à la restauration scolaire "
                  "sur le portail famille.", conversation="same")
    for i in range(4):
        _answered(db, julie, now, f"Repas de l'école numéro {i}", "La restauration scolaire : portail famille.",
                  conversation=f"c{i}")
    found = similar.similar_to_text(db, "Comment s'inscrire à la restauration scolaire ?")
    assert len(found) == 3 and len({a.mention_uid for a in found}) == 3
    convs = [repo.get_item(db, a.mention_uid).mention.conversation_id for a in found]
    assert len(set(convs)) == 3  # one per conversation


def test_the_message_own_conversation_is_left_out(db, agents, now):
    julie = agents["julie"]
    first = _answered(db, julie, now, "Nid de poule rue des Écoles", "Rebouchage prévu.", conversation="t1")
    again = make_mention("Le nid de poule rue des Écoles est toujours là", conversation_id="t1")
    repo.upsert_mentions(db, [again], now=now)
    assert similar.similar_answers(db, repo.get_item(db, again.uid), viewer=julie) == []
    assert [a.mention_uid for a in similar.similar_to_text(db, "nid de poule")] == [first.uid]


def test_an_erased_or_deleted_message_leaves_the_index(db, agents, now):
    julie = agents["julie"]
    m = _answered(db, julie, now, "Graffitis sur le mur de l'église", "Effacement programmé.")
    assert similar.similar_to_text(db, "graffitis église")
    with write_transaction(db):
        db.execute("UPDATE mentions SET text = '' WHERE uid = ?", (m.uid,))
    assert similar.similar_to_text(db, "graffitis église") == []
    assert repo.answered_count(db) == 1
    with write_transaction(db):
        db.execute("DELETE FROM drafts WHERE mention_uid = ?", (m.uid,))
        db.execute("DELETE FROM mentions WHERE uid = ?", (m.uid,))
    assert repo.answered_count(db) == 0


def test_the_query_keeps_content_words_as_stem_prefixes():
    assert similar.match_query("Bonjour, les poubelles ne sont pas ramassées !") == '"poubel"* OR "ramass"*'
    assert similar.match_query("merci à vous") is None
    assert similar.match_query('"; DROP TABLE x; --') == '"drop" OR "table"'


def test_bench_similar_reports_precision_and_latency():
    from console.bench import similar as bench

    out = bench.run(answered=300)
    assert out["n_queries"] >= 100 and out["n_answered"] == 300
    assert 0.0 <= out["precision_at_3"] <= 1.0 and out["p95_ms"] > 0
    assert out["precision_at_3"] > 0.5  # far above chance (1/24): the labelled set is read and searched
