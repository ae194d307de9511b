"""The learned projection of the topic groups' sentence vectors (decision 0300) and its cross-validation.

Synthetic vectors: each message's topic is a weak direction, its register (polite / terse, shared by every topic)
a strong one. Plain cosines then group by register; the within-topic whitening learned from labelled topics
shrinks the register direction, and messages of topics it never saw group by topic.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from console.bench import topics as bench
from moderation import topics
from moderation.topics import FUSED, FusedParams, Projection, cluster_labels, fit_projection

REGISTER = (100, 500)  # one e5 dimension, one USE dimension


def _vectors(topic_ids, registers, *, seed):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.03, (len(topic_ids), 896)).astype(np.float32)
    for i, (t, r) in enumerate(zip(topic_ids, registers, strict=True)):
        m[i, t] += 0.6
        m[i, 384 + t] += 0.6
        for d in REGISTER:
            m[i, d] += 1.5 * r
    m[:, :384] /= np.linalg.norm(m[:, :384], axis=1, keepdims=True)
    m[:, 384:] /= np.linalg.norm(m[:, 384:], axis=1, keepdims=True)
    return m


def _window(first_topic, n_topics, per, *, seed, register=True):
    topic_ids = [first_topic + t for t in range(n_topics) for _ in range(per)]
    registers = [(i % 2) * 2 - 1 if register else 0 for i in range(len(topic_ids))]
    return topic_ids, _vectors(topic_ids, registers, seed=seed)


def test_the_projection_learns_to_ignore_the_register_and_groups_unseen_topics():
    train_ids, train = _window(0, 6, 8, seed=1)
    projection = fit_projection(train, [f"t{t}" for t in train_ids], e5_share=0.25, shrinkage=0.1)
    test_ids, test = _window(20, 4, 6, seed=2)  # topics the projection never saw
    texts = [f"message {i}" for i in range(len(test_ids))]  # no shared content word: the vectors decide
    learned = FusedParams(tfidf_weight=0.0, shared_weight=0.0, threshold=0.7, projected=True)
    grouped = cluster_labels(texts, vectors=list(test), fused=learned, projection=projection)
    assert adjusted_rand_score(test_ids, grouped) == 1.0
    # without the learned shrinkage (λ huge: only the window centring is left) the register splits every topic
    plain = fit_projection(train, [f"t{t}" for t in train_ids], e5_share=0.25, shrinkage=1e9)
    assert adjusted_rand_score(test_ids, cluster_labels(texts, vectors=list(test), fused=learned,
                                                        projection=plain)) < 0.5


def test_mapped_rows_are_unit_and_rows_without_a_vector_stay_empty():
    ids, m = _window(0, 3, 4, seed=3)
    projection = fit_projection(m, [f"t{t}" for t in ids], e5_share=0.5, shrinkage=1.0)
    have = np.ones(len(ids), dtype=bool)
    have[2] = False
    mapped = projection.apply(m, have)
    assert np.allclose(np.linalg.norm(mapped[have], axis=1), 1.0, atol=1e-5) and not mapped[2].any()
    assert ((projection.shrink <= 0) & (projection.shrink > -1)).all()
    basis = projection.basis
    assert np.allclose(basis.T @ basis, np.eye(basis.shape[1]), atol=1e-4)


def test_save_and_load_round_trip_with_the_same_bytes(tmp_path):
    ids, m = _window(0, 3, 4, seed=4)
    projection = fit_projection(m, [f"t{t}" for t in ids], e5_share=0.25, shrinkage=3.0)
    projection.save(tmp_path / "a.npz")
    projection.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = Projection.load(tmp_path / "a.npz")
    assert (loaded.e5_share, loaded.shrinkage) == (0.25, 3.0)
    have = np.ones(len(ids), dtype=bool)
    assert np.allclose(loaded.apply(m, have), projection.apply(m, have), atol=2e-3)  # float16 basis


def test_the_shipped_grouping_uses_the_shipped_projection():
    # decision 0320's pick (0300's: cut 0.90, λ 3, words not stemmed)
    assert FUSED.projected and FUSED.threshold == 0.92 and FUSED.shared_weight == 0.0 and FUSED.stemmed
    shipped = topics.shipped_projection()
    assert shipped.basis.shape[0] == 896 and 100 <= shipped.basis.shape[1] <= 896
    assert (shipped.e5_share, shipped.shrinkage) == (0.25, 1.0)
    assert topics.PROJECTION_PATH.stat().st_size < 1_000_000
    # the default grouping goes through it: a projection that maps every vector alike changes the groups
    ids, m = _window(0, 3, 4, seed=5)
    texts = [f"message {i}" for i in range(len(ids))]
    default = cluster_labels(texts, vectors=list(m))
    assert default == cluster_labels(texts, vectors=list(m), projection=shipped)
    flat = Projection(basis=np.eye(896, dtype=np.float32)[:, 1:], shrink=np.full(895, -1.0 + 1e-6, dtype=np.float32),
                      e5_share=0.25, shrinkage=3.0)  # keeps one direction only: every pair alike or opposite
    assert cluster_labels(texts, vectors=list(m), projection=flat) != default


def test_a_message_without_a_vector_is_compared_by_its_words():
    ids, m = _window(0, 2, 4, seed=6, register=False)
    texts = ["Les poubelles débordent rue des Lilas"] * 4 + [f"message {i}" for i in range(4)]
    vectors = [*list(m[:3]), None, *list(m[4:])]
    train_ids, train = _window(0, 6, 8, seed=1, register=False)  # a projection learned on vectors like these
    projection = fit_projection(train, [f"t{t}" for t in train_ids], e5_share=0.25, shrinkage=3.0)
    labels = cluster_labels(texts, vectors=vectors, projection=projection)
    assert labels[0] == labels[1] == labels[2] == labels[3] != labels[4]  # the 4th joins its identical texts


def test_projected_cross_validation_fits_on_the_choosing_topics_only(monkeypatch):
    """The held-out topics never reach the fit, and vectors that encode the topic give a high held-out ARI."""
    texts, truth = bench.labelled()
    ids = {t: i for i, t in enumerate(sorted(set(truth)))}
    m = _vectors([ids[t] % 380 for t in truth], [(i % 2) * 2 - 1 for i in range(len(truth))], seed=7)
    monkeypatch.setattr(bench, "PROJECTED_GRID", ((0.2, 0.25, 0.3, 0.0), (0.2, 0.25, 1e9, 0.0)))
    monkeypatch.setattr(bench, "PROJECTED_CUTS", (0.5, 0.7, 0.9))
    seen: list[set[str]] = []
    real_fit = topics.fit_projection

    def spy(matrix, topic_of, **kw):
        seen.append({t for t in topic_of if t is not None})
        return real_fit(matrix, topic_of, **kw)

    monkeypatch.setattr(topics, "fit_projection", spy)
    splits = bench.halves(truth, repeats=1)
    result = bench.cross_validate_projected(texts, truth, m, splits)
    first, second = splits[0]
    assert len(result["aris"]) == 1 and result["aris"][0] > 0.9
    assert seen and all(s <= {truth[i] for i in first} for s in seen)
    assert result["per"][0]["params"]["shrinkage"] == 0.3  # the learned shrinkage beats no shrinkage


def test_fast_ari_is_scikit_learns():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.integers(0, rng.integers(1, 20), 60)
        b = rng.integers(0, rng.integers(1, 20), 60)
        assert bench.fast_ari(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert bench.fast_ari(np.arange(5), np.arange(5)) == 1.0


def test_a_small_window_is_centred_on_the_labelled_messages_mean():
    """Two messages centred on their own mean point in opposite directions whatever they say: a window of the
    same complaint twice (a filter on one tag, one account) must still make one group. Under OWN_CENTRE_MIN
    vectors the window is centred on the mean of the messages the projection learned from."""
    train_ids, train = _window(0, 6, 8, seed=1)
    projection = fit_projection(train, [f"t{t}" for t in train_ids], e5_share=0.25, shrinkage=0.1)
    assert projection.mean is not None and projection.mean.shape == (896,)
    _, pair = _window(20, 1, 2, seed=3, register=False)  # one topic, twice
    texts = ["le même signalement", "encore ce signalement"]
    learned = FusedParams(tfidf_weight=0.0, shared_weight=0.0, threshold=0.7, projected=True)
    assert cluster_labels(texts, vectors=list(pair), fused=learned, projection=projection) == [0, 0]
    own = Projection(basis=projection.basis, shrink=projection.shrink, e5_share=0.25, shrinkage=0.1)  # no mean
    assert cluster_labels(texts, vectors=list(pair), fused=learned, projection=own) == [0, 1]
    # a window of OWN_CENTRE_MIN vectors or more keeps its own centre (what the many-topic CV measured)
    _, big = _window(30, 5, topics.OWN_CENTRE_MIN // 5 + 1, seed=4)
    have = np.ones(len(big), dtype=bool)
    assert np.allclose(projection.apply(big, have), own.apply(big, have))


def test_the_shipped_projection_carries_its_centre():
    shipped = topics.shipped_projection()
    assert shipped.mean is not None and shipped.mean.shape == (896,)
