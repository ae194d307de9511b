"""Topic groups with the worker's stored sentence vectors (decision 0250) and ``bench topics`` on the shipped data.

A small fake encoder (one dimension per subject, as in tests/services/test_similar_vectors.py) makes paraphrases
that share no content word close, so the tests show what the vectors add and that distinct subjects stay apart.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from console.bench import topics as bench
from core import repo
from core.db import write_transaction
from moderation.topics import FusedParams, cluster_labels, group_topics
from services.inbox import similar_vectors
from services.reports.dashboard import DashboardConfig, DashboardFilters
from services.reports.topics import answer_group, topics_for
from tests.conftest import make_mention

# one subject per dimension: the words residents use for it
SUBJECTS = {"poubelle": 0, "ordure": 0, "ramass": 0, "éboueur": 0, "camion": 0, "déchet": 0,
            "lampadaire": 1, "éclairage": 1, "noir": 1, "réverbère": 1, "lumière": 1}
WASTE = ["Les poubelles débordent rue des Lilas depuis mardi",
         "Ordures pas ramassées depuis 10 jours, ça pue",
         "Le camion des éboueurs a encore oublié notre rue",
         "Quand passe la collecte des déchets ? Rien depuis lundi"]
LIGHTS = ["Les lampadaires de la rue des Acacias sont éteints",
          "Éclairage public en panne, c'est tout noir le soir",
          "Plus aucune lumière la nuit dans le lotissement",
          "Réverbère cassé devant l'école depuis une semaine"]


@pytest.fixture(autouse=True)
def _windows_centred_on_themselves(monkeypatch):
    """The fake vectors below share nothing with the real encoders' space, so a small window is centred on its own
    mean here, not on the labelled messages' (the shipped projection's centre, tested in test_topics_projection)."""
    from moderation import topics

    shipped = topics.shipped_projection()
    monkeypatch.setattr(topics, "shipped_projection", lambda: topics.Projection(
        basis=shipped.basis, shrink=shipped.shrink, e5_share=shipped.e5_share, shrinkage=shipped.shrinkage))


def _fake(texts, dim_e5=384, dim_use=512):
    out = []
    for t in texts:
        e5, use = np.zeros(dim_e5, dtype=np.float32), np.zeros(dim_use, dtype=np.float32)
        for word, d in SUBJECTS.items():
            if word in t.lower():
                e5[d] += 1.0
                use[d] += 1.0
        e5[-1] += 0.05
        use[-1] += 0.05
        out.append(np.hstack([e5 / np.linalg.norm(e5), use / np.linalg.norm(use)]))
    return out


def test_stored_vectors_put_paraphrases_together_and_keep_two_subjects_apart():
    texts = WASTE + LIGHTS
    labels = cluster_labels(texts, vectors=_fake(texts))
    assert len({labels[i] for i in range(4)}) == 1 and len({labels[i] for i in range(4, 8)}) == 1
    assert labels[0] != labels[4]
    # the words alone do not get there: the paraphrases share almost no content word
    words_only = cluster_labels(texts)
    assert len({words_only[i] for i in range(4)}) > 1


def test_a_message_without_a_stored_vector_is_compared_by_its_words():
    texts = [*WASTE, "Les poubelles débordent rue des Lilas depuis mardi !!", *LIGHTS]
    vectors = [*_fake(WASTE), None, *_fake(LIGHTS)]
    labels = cluster_labels(texts, vectors=vectors)
    assert labels[4] == labels[0]  # its near-copy has a vector; the pair falls back to TF-IDF and still joins
    assert labels[4] != labels[5]


def test_stricter_cut_splits_more():
    texts = WASTE + LIGHTS
    loose = cluster_labels(texts, vectors=_fake(texts), fused=FusedParams(threshold=0.95))
    strict = cluster_labels(texts, vectors=_fake(texts), fused=FusedParams(threshold=0.05))
    assert len(set(loose)) <= 2 < len(set(strict))


def test_the_dashboard_reads_the_stored_vectors_and_a_group_can_still_be_answered(db, now):
    uids = []
    with write_transaction(db):
        for i, text in enumerate(WASTE + LIGHTS):
            m = make_mention(text, author=f"habitant{i}", created_at=now - timedelta(hours=i + 1))
            repo.upsert_mentions(db, [m], now=now)
            uids.append(m.uid)
    later = now.astimezone(UTC) + timedelta(hours=1)
    before = topics_for(db, DashboardFilters(), DashboardConfig(), now=later)
    assert not any(set(uids[:4]) <= set(t.uids) for t in before)  # words alone: the waste messages are apart
    with write_transaction(db):
        repo.store_mention_vectors(db, [(u, similar_vectors.to_bytes(v)) for u, v in zip(
            uids, _fake(WASTE + LIGHTS), strict=True)], model=similar_vectors.MODEL)
    topics = topics_for(db, DashboardFilters(), DashboardConfig(), now=later)
    waste = next(t for t in topics if uids[0] in t.uids)
    assert set(waste.uids) == set(uids[:4]) and set(waste.open_uids) == set(uids[:4])
    assert any(set(t.uids) == set(uids[4:]) for t in topics)
    assert waste.label  # labelled from the members' words
    replied = []
    result = answer_group(db, waste.open_uids, lambda item: replied.append(item.uid))
    assert set(result.sent) == set(uids[:4]) == set(replied)


def test_bench_topics_runs_on_the_shipped_data(monkeypatch):
    texts, truth = bench.labelled()
    assert len(texts) >= 400 and len({t for t in truth if not t.startswith("seul-")}) >= 30
    singles = sum(t.startswith("seul-") for t in truth)
    assert 0.1 <= singles / len(texts) <= 0.2
    # words alone, three folds: the figures are held-out ARIs of the TF-IDF grouping
    result = bench.run(vectors=False, folds=3, window=300)
    assert result["n_texts"] == len(texts) and len(result["ari_folds"]) == 3
    assert all(0.0 < a <= 1.0 for a in result["ari_folds"]) and 0.0 < result["ari_full"] <= 1.0
    assert result["grouping_ms"]["tfidf"] > 0 and "threshold" in result["params"]
    assert len(result["ari_halves"]) == 10 and 0.0 < result["ari_cv2_mean"] <= 1.0  # many-topic CV, 5 seeds
    assert all(h["n_topics"] >= 15 for h in result["halves"])
    assert result["unseen"]["n_topics"] == 12 and 0.0 < result["unseen"]["ari"] <= 1.0


def _topic_vectors(truth, *, seed):
    """e5 ‖ USE-shaped vectors (896 floats, each part unit-norm) that encode each message's topic, plus noise."""
    rng = np.random.default_rng(seed)
    ids = {t: i for i, t in enumerate(sorted(set(truth)))}
    matrix = rng.normal(0, 0.02, (len(truth), 896)).astype(np.float32)
    for i, t in enumerate(truth):
        matrix[i, ids[t] % 384] += 1.0
        matrix[i, 384 + ids[t] % 512] += 1.0
    matrix[:, :384] /= np.linalg.norm(matrix[:, :384], axis=1, keepdims=True)
    matrix[:, 384:] /= np.linalg.norm(matrix[:, 384:], axis=1, keepdims=True)
    return matrix


def test_bench_cross_validation_finds_topics_that_the_vectors_separate(monkeypatch):
    """With vectors that encode the topic (plus noise), the held-out ARI must be high: the CV machinery works."""
    texts, truth = bench.labelled()
    matrix = _topic_vectors(truth, seed=3)
    monkeypatch.setattr(bench, "GRID", ((0.2, 0.0, 5, 0.0), (0.5, 0.0, 5, 0.3)))
    result = bench.cross_validate(texts, truth, matrix, folds=3)
    assert result["fused"]["ari_cv_mean"] > max(0.9, result["tfidf"]["ari_cv_mean"])
    assert adjusted_rand_score(truth, cluster_labels(texts, vectors=list(matrix))) > 0.5


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_inputs(n):
    texts = WASTE[:n]
    assert len(cluster_labels(texts, vectors=_fake(texts))) == n
    assert isinstance(group_topics(texts, vectors=_fake(texts)), list)


def test_too_few_stored_vectors_fall_back_to_the_words():
    texts = WASTE + LIGHTS
    vectors = [*_fake(texts[:1]), *([None] * 7)]
    assert cluster_labels(texts, vectors=vectors) == cluster_labels(texts)


def test_many_topic_halves_split_topics_not_messages():
    texts, truth = bench.labelled()
    splits = bench.halves(truth, repeats=3)
    assert len(splits) == 3 and len({tuple(a) for a, _b in splits}) == 3  # each seed cuts differently
    for first, second in splits:
        assert sorted(first + second) == list(range(len(texts)))
        assert not {truth[i] for i in first} & {truth[i] for i in second}  # a topic lies wholly in one half
        named = [len({truth[i] for i in part if not truth[i].startswith("seul-")}) for part in (first, second)]
        assert abs(named[0] - named[1]) <= 1 and min(named) >= 15  # many topics in each held-out half


def test_many_topic_cross_validation_reads_each_half_with_the_other_halfs_choice(monkeypatch):
    texts, truth = bench.labelled()
    matrix = _topic_vectors(truth, seed=5)
    monkeypatch.setattr(bench, "GRID", ((0.2, 0.0, 5, 0.0), (0.5, 0.0, 5, 0.3)))
    result = bench.cross_validate_halves(texts, truth, matrix, repeats=2)
    fused = result["fused"]
    assert len(fused["ari_halves"]) == 4 and all(h["n_topics"] >= 15 for h in fused["halves"])
    assert fused["ari_cv2_mean"] > max(0.9, result["tfidf"]["ari_cv2_mean"])
