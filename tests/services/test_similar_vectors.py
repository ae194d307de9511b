"""Similar answers' sentence vectors (services/inbox/similar_vectors.py, m195, decision 0195), with a small fake
encoder: one dimension per known word, so that paraphrases sharing no stem can still be made close."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest

from console.bench import similar as bench
from core import repo
from core.db import write_transaction
from core.models import DraftState
from services.inbox import similar, similar_vectors
from tests.conftest import make_mention

# words of one request share a dimension: « ordures » and « poubelles » mean the same here
TOPICS = {"poubelles": 0, "ordures": 0, "ramassage": 0, "propreté": 0, "lampadaire": 1, "éclairage": 1,
          "nuit": 1, "graffitis": 2, "tags": 2, "mur": 2}


def _vec(texts, dim):
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        for word, d in TOPICS.items():
            if word in t.lower():
                out[i, d] += 1.0
        out[i, dim - 1] += 0.01  # never all zero
    return out


FAKE = similar_vectors.Encoders(e5=lambda texts: _vec(texts, 384), use=lambda texts: _vec(texts, 512))


@pytest.fixture(autouse=True)
def _fresh_matrices():
    similar_vectors.forget_matrices()
    yield
    similar_vectors.forget_matrices()


def _answered(db, agent, now, text, reply):
    m = make_mention(text)
    repo.upsert_mentions(db, [m], now=now)
    draft = repo.create_draft(db, mention_uid=m.uid, author_id=agent.id, body=reply, signed_text=reply + " ^JM",
                              platform=m.platform, now=now)
    repo.save_draft(db, dataclasses.replace(draft, state=DraftState.SENT, sent_at=now + timedelta(hours=1)))
    return m, draft


def test_the_worker_embeds_sent_replies_and_recent_messages_once(db, agents, now):
    _answered(db, agents["julie"], now, "Les ordures débordent", "Le service propreté passe demain.")
    new = make_mention("Poubelles pleines rue Pasteur")
    repo.upsert_mentions(db, [new], now=now)
    assert similar_vectors.waiting(db, now=now)
    done = similar_vectors.embed_pending(db, FAKE, now=now, batch=1)
    assert (done.answered, done.mentions) >= (1, 2)  # the answered message is recent too
    assert not similar_vectors.waiting(db, now=now)
    assert similar_vectors.embed_pending(db, FAKE, now=now) == similar_vectors.EmbedResult(0, 0)
    vec = similar_vectors.from_bytes(repo.mention_vector(db, new.uid))
    assert vec.shape == (896,) and abs(float(vec @ vec) - 2.0) < 0.01  # two unit halves


def test_a_paraphrase_without_a_shared_word_is_found_through_its_vector(db, agents, now):
    julie = agents["julie"]
    bins, _ = _answered(db, julie, now, "Les ordures débordent devant l'école", "Un passage est prévu demain.")
    lamp, _ = _answered(db, julie, now, "Lampadaire éteint rue Pasteur", "Réparation prévue rue Pasteur.")
    new = make_mention("Poubelles pas vidées rue Pasteur")
    repo.upsert_mentions(db, [new], now=now)
    # full text alone: only the lamp shares a word (« Pasteur »)
    assert [a.mention_uid for a in similar.similar_answers(db, repo.get_item(db, new.uid), viewer=julie)] == [
        lamp.uid]
    similar_vectors.embed_pending(db, FAKE, now=now)
    found = similar.similar_answers(db, repo.get_item(db, new.uid), viewer=julie)
    assert [a.mention_uid for a in found] == [bins.uid, lamp.uid]  # the vector puts the same request first


def test_vectors_follow_erasure_deletion_and_the_matrix_reloads(db, agents, now):
    julie = agents["julie"]
    tags, draft = _answered(db, julie, now, "Graffitis sur le mur de l'église", "Effacement programmé.")
    similar_vectors.embed_pending(db, FAKE, now=now)
    query = similar_vectors.query_vectors(FAKE, ["des tags partout"])[0]
    assert similar_vectors.nearest(db, query, limit=5) == [draft.id]
    with write_transaction(db):
        db.execute("UPDATE mentions SET text = '' WHERE uid = ?", (tags.uid,))
    assert repo.mention_vector(db, tags.uid) is None and repo.answered_vectors_of(db, [draft.id]) == {}
    assert similar_vectors.nearest(db, query, limit=5) == []  # the in-memory matrix dropped it
    other, second = _answered(db, julie, now, "Tags sur l'école", "Nettoyage demain.")
    similar_vectors.embed_pending(db, FAKE, now=now)
    # the new reply, then the erased message's reply embedded again without the resident's words (as in FTS)
    assert similar_vectors.nearest(db, query, limit=5) == [second.id, draft.id]
    with write_transaction(db):
        db.execute("DELETE FROM drafts WHERE mention_uid IN (?, ?)", (other.uid, tags.uid))
    assert similar_vectors.nearest(db, query, limit=5) == []
    assert similar.similar_to_text(db, "tags", vector=query) == []


def test_the_cross_validation_picks_the_weight_on_other_requests():
    per_weight = {0.0: [1.0, 0.0, 1.0, 0.0], 0.1: [0.0, 1.0, 0.0, 1.0]}
    intents = ["a", "b", "c", "d"]
    score, chosen = bench._cv(per_weight, intents, folds=2)
    assert len(chosen) == 2 and 0.0 <= score <= 1.0
    # each held-out request is read with the weight chosen without it: never the best of both by hindsight
    assert score < 1.0


def test_the_worker_job_embeds_only_when_something_waits(tmp_path, agents, now):
    from console.jobs import rescoring as job
    from core.config import Settings
    from core.db import open_db

    path = tmp_path / "w.db"
    open_db(path).close()
    settings = Settings(data_dir=tmp_path, db_path=path, values={"PARVIS_DEMO": "0", "PARVIS_RESCORE_BATCH": "8"})
    loads: list[int] = []

    def encoders():
        loads.append(1)
        return FAKE

    assert job.embed_once(settings, clock=lambda: now, encoders=encoders) is None and not loads
    db = open_db(path)
    try:
        repo.upsert_mentions(db, [make_mention("Poubelles pleines")], now=now)
    finally:
        db.close()
    assert job.embed_once(settings, clock=lambda: now, encoders=encoders) == similar_vectors.EmbedResult(0, 1)
    off = Settings(data_dir=tmp_path, db_path=path, values={"PARVIS_DEMO": "0", "PARVIS_RESCORE_BATCH": "0"})
    assert job.embed_once(off, clock=lambda: now, encoders=encoders) is None and len(loads) == 1


def test_a_pass_stops_between_batches_when_asked(db, agents, now):
    repo.upsert_mentions(db, [make_mention(f"Poubelles {i}") for i in range(3)], now=now)
    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # the first batch runs, then the worker is stopping

    result = similar_vectors.embed_pending(db, FAKE, now=now, batch=1, should_stop=should_stop)
    assert result == similar_vectors.EmbedResult(answered=0, mentions=1)
    assert similar_vectors.waiting(db, now=now)  # the rest waits for the next run


def test_a_pass_stops_after_its_time_budget(db, agents, now):
    repo.upsert_mentions(db, [make_mention(f"Poubelles {i}") for i in range(3)], now=now)
    done = similar_vectors.embed_pending(db, FAKE, now=now, batch=1, budget_s=-1.0)
    assert done == similar_vectors.EmbedResult(0, 0) and similar_vectors.waiting(db, now=now)
