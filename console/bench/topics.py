"""``bench topics``: how well the dashboard's topic groups match a labelled set, cross-validated over topics.

Data: ``data/topics_fr.jsonl`` (provenance in ``data/README.md``): 404 residents' messages to a town hall, 34
topics of 5 to 22 messages (related-but-distinct pairs among them: the closed pool / the pool's hours, the moved
Saturday market / the Christmas market…) and 66 one-off messages that belong to no group (``topic`` null; each is
its own group for the ARI).

Method (decision 0250): the e5 ‖ USE vectors the worker stores for residents' messages (decision 0195) fused with
the TF-IDF space of moderation/topics.py, shared-nearest-neighbour sharpening, average linkage
(:class:`moderation.topics.FusedParams`). The vectors are computed here by the worker's own function
(``similar_vectors.query_vectors``) and round-tripped through the float16 storage format.

Cross-validation: GroupKFold over topics (each one-off message is its own group), ``folds`` folds. For each fold
the parameters maximising the ARI on the other folds' messages (grouped together, as the dashboard would) are
picked from :data:`GRID`, then the held-out fold's messages are grouped alone and scored: ``ari_cv_mean`` and
``ari_folds`` are these held-out figures. ``params`` are the same rule applied to all topics (what ships as
``FUSED``); ``ari_full`` is that configuration run once on the whole set (its parameters saw these topics).
The TF-IDF grouping used when no vector is stored yet is cross-validated the same way (``fallback``).

A held-out fold of five holds ~7 topics, fewer than a real dashboard window: ``ari_cv2_mean`` (decision 0275) is
the many-topic figure: the topics cut in two halves (one-off messages too), repeated over ``repeats`` seeds; the
parameters are picked on one half (~17 topics grouped together) and read on the other half grouped alone, both
ways round (``ari_halves``, ``halves``). ``unseen``: the shipped grouping run once on ``data/topics_fr_unseen.jsonl``
(12 other topics, written and committed before any method ran on it; nothing is chosen on it).
``grouping_ms``: :func:`moderation.topics.group_topics` over ``window`` messages (the labelled texts repeated,
as the dashboard's default window of 2,000), with and without vectors (``fused_0250``: decision 0250's method).

Since decision 0300 the shipped grouping maps the vectors through a learned :class:`moderation.topics.Projection`
first. Its figures (the top-level ``ari_cv_mean``, ``ari_cv2_mean``, ``ari_full``, ``params``) come from
:func:`cross_validate_projected`: on each split the projection is fitted on the choosing messages' topics only, its
e5 share, shrinkage, TF-IDF weight, shared-neighbour weight and cut chosen from :data:`PROJECTED_GRID` by an inner
split of those topics (:func:`choose_projected`), then read on the held-out messages. ``fused_0250``: decision
0250's grid, cross-validated as before; ``paired_0250``: the many-topic gain over it on the same halves.
Since decision 0320 the shipped grouping stems the TF-IDF words (``FusedParams.stemmed``): the projected figures
are read with stemming; ``projected_0300`` is decision 0300's method (not stemmed) through the same many-topic CV,
``paired_0300`` the gain over it on the same halves, and ``grouping_ms`` also times ``fused_0300``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from moderation import topics

DATA = Path(__file__).parent / "data" / "topics_fr.jsonl"
UNSEEN = Path(__file__).parent / "data" / "topics_fr_unseen.jsonl"  # read once, by the chosen method (decision 0275)
THRESHOLDS = tuple(round(0.5 + 0.01 * i, 2) for i in range(46))  # 0.50 … 0.95
TFIDF_THRESHOLDS = tuple(round(0.7 + 0.01 * i, 2) for i in range(30))  # 0.70 … 0.99
GRID = tuple(itertools.product((0.2, 0.35, 0.5, 0.65), (0.0, 0.25, 0.5), (5, 8), (0.0, 0.3, 0.5)))
# decision 0300, the learned projection: (tfidf_weight, e5_share, shrinkage λ, shared_weight), 5 neighbours
PROJECTED_GRID = tuple(itertools.product((0.2, 0.35, 0.5), (0.25, 0.5), (0.1, 0.3, 1.0, 3.0), (0.0, 0.3)))
PROJECTED_CUTS = tuple(round(0.30 + 0.01 * i, 2) for i in range(111))  # 0.30 … 1.40 (centred cosines go below 0)
INNER_SEEDS = 2  # inner splits of a choosing part's topics, each read both ways round


def labelled(path: Path = DATA) -> tuple[list[str], list[str]]:
    """(texts, topic of each; a one-off message gets a topic of its own)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], [r["topic"] or f"seul-{i}" for i, r in enumerate(rows)]


def stored_vectors(texts: Sequence[str]) -> Any:
    """What the worker stores for these messages (e5 ``query:`` ‖ USE, float16), as a float32 matrix."""
    import numpy as np

    from services.inbox import similar_vectors

    enc = similar_vectors.load_encoders(threads=2)
    vectors = similar_vectors.query_vectors(enc, list(texts))
    return np.vstack([similar_vectors.from_bytes(similar_vectors.to_bytes(v)) for v in vectors])


def _scores(texts: Sequence[str], truth: Sequence[str], matrix: Any | None) -> dict[tuple[Any, ...], float]:
    """ARI of every grid point on these messages: keys (tfidf_weight, e5_share, neighbours, shared_weight,
    threshold), or ("tfidf", threshold) for the TF-IDF grouping."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    space = topics._Space(list(texts))
    x = space.vectors()
    similarity = (x @ x.T).toarray()
    out: dict[tuple[Any, ...], float] = {}
    tree = topics.average_linkage(np.clip(1.0 - similarity, 0.0, 1.0))
    for t in TFIDF_THRESHOLDS:
        out[("tfidf", t)] = adjusted_rand_score(truth, topics.cut(tree, t))
    if matrix is None:
        return out
    have = np.ones(len(texts), dtype=bool)
    for w, a, k, s in GRID:
        params = topics.FusedParams(tfidf_weight=w, e5_share=a, neighbours=k, shared_weight=s)
        tree = topics.average_linkage(topics.fused_distance(similarity, matrix, have, params))
        for t in THRESHOLDS:
            out[(w, a, k, s, t)] = adjusted_rand_score(truth, topics.cut(tree, t))
    return out


def _best(scores: dict[tuple[Any, ...], float], fused: bool) -> tuple[Any, ...]:
    keys = [k for k in scores if (k[0] != "tfidf") == fused]
    return max(keys, key=lambda k: round(scores[k], 6))  # ties: the first in grid order


def _params(key: tuple[Any, ...]) -> dict[str, Any]:
    if key[0] == "tfidf":
        return {"threshold": key[1]}
    w, a, k, s, t = key
    return asdict(topics.FusedParams(tfidf_weight=w, e5_share=a, neighbours=k, shared_weight=s, threshold=t))


def cross_validate(texts: Sequence[str], truth: Sequence[str], matrix: Any | None, *,
                   folds: int = 5) -> dict[str, Any]:
    """Held-out ARI per fold of topics, for the fused grouping (when ``matrix``) and the TF-IDF one."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    out: dict[str, Any] = {}
    methods = ("fused", "tfidf") if matrix is not None else ("tfidf",)
    per: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for train, test in GroupKFold(n_splits=folds).split(texts, groups=truth):
        fit = _scores([texts[i] for i in train], [truth[i] for i in train],
                      None if matrix is None else matrix[train])
        held = _scores([texts[i] for i in test], [truth[i] for i in test],
                       None if matrix is None else matrix[test])
        for m in methods:
            key = _best(fit, m == "fused")
            per[m].append({"params": _params(key), "ari_fit": round(fit[key], 4), "ari": round(held[key], 4),
                           "n_texts": len(test), "n_topics": len({truth[i] for i in test if not
                                                                  truth[i].startswith("seul-")})})
    whole = _scores(texts, truth, matrix)
    for m in methods:
        aris = [f["ari"] for f in per[m]]
        key = _best(whole, m == "fused")
        out[m] = {"ari_cv_mean": round(float(np.mean(aris)), 4), "ari_cv_std": round(float(np.std(aris)), 4),
                  "ari_folds": aris, "folds": per[m], "params": _params(key), "ari_full": round(whole[key], 4)}
    # the shipped configuration run once on the whole set, through the dashboard's own entry point
    from sklearn.metrics import adjusted_rand_score

    if matrix is not None:
        out["fused"]["ari_full_shipped"] = round(adjusted_rand_score(truth, topics.cluster_labels(
            texts, vectors=list(matrix), fused=topics.FUSED_0250)), 4)
    out["tfidf"]["ari_full_shipped"] = round(adjusted_rand_score(truth, topics.cluster_labels(texts)), 4)
    return out


def halves(truth: Sequence[str], *, repeats: int = 5) -> list[tuple[list[int], list[int]]]:
    """Many-topic splits: for each seed 0 … ``repeats`` − 1, the topics (and, apart, the one-off messages) shuffled
    and cut in two halves, as (indices of half A, indices of half B)."""
    import numpy as np

    groups = sorted(set(truth))
    named = [g for g in groups if not g.startswith("seul-")]
    alone = [g for g in groups if g.startswith("seul-")]
    out = []
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        t, o = list(rng.permutation(named)), list(rng.permutation(alone))
        first = set(t[:len(t) // 2]) | set(o[:len(o) // 2])
        out.append(([i for i, g in enumerate(truth) if g in first], [i for i, g in enumerate(truth) if g not in first]))
    return out


def cross_validate_halves(texts: Sequence[str], truth: Sequence[str], matrix: Any | None, *,
                          repeats: int = 5) -> dict[str, Any]:
    """Held-out ARI on many-topic windows: 2-fold splits of the topics repeated over ``repeats`` seeds; the
    parameters are picked on one half (~17 topics grouped together) and read on the other half grouped alone, both
    ways round (``2 × repeats`` held-out figures per method)."""
    import numpy as np

    methods = ("fused", "tfidf") if matrix is not None else ("tfidf",)
    per: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for first, second in halves(truth, repeats=repeats):
        scored = [_scores([texts[i] for i in part], [truth[i] for i in part],
                          None if matrix is None else matrix[part]) for part in (first, second)]
        for (fit, held), test in (((scored[0], scored[1]), second), ((scored[1], scored[0]), first)):
            for m in methods:
                key = _best(fit, m == "fused")
                per[m].append({"params": _params(key), "ari_fit": round(fit[key], 4), "ari": round(held[key], 4),
                               "n_texts": len(test), "n_topics": len({truth[i] for i in test if not
                                                                      truth[i].startswith("seul-")})})
    return {m: {"ari_cv2_mean": round(float(np.mean([h["ari"] for h in per[m]])), 4),
                "ari_cv2_std": round(float(np.std([h["ari"] for h in per[m]])), 4),
                "ari_halves": [h["ari"] for h in per[m]], "halves": per[m]} for m in methods}


def fast_ari(truth_codes: Any, pred: Any) -> float:
    """The adjusted Rand index of two integer labellings (scikit-learn's value, without its per-call overhead)."""
    import numpy as np

    n = len(truth_codes)
    t = np.unique(truth_codes, return_inverse=True)[1]
    p = np.unique(pred, return_inverse=True)[1]
    if t.max() == p.max() and t.max() in (0, n - 1):
        return 1.0

    def pairs(counts: Any) -> float:
        counts = counts.astype(np.float64)
        return float((counts * (counts - 1) / 2).sum())

    index = pairs(np.bincount(t * (p.max() + 1) + p))
    a, b = pairs(np.bincount(t)), pairs(np.bincount(p))
    expected, top = a * b / (n * (n - 1) / 2), (a + b) / 2
    return (index - expected) / (top - expected) if top != expected else 1.0


def _one_offs_apart(truth: Sequence[str]) -> list[str | None]:
    return [None if t.startswith("seul-") else t for t in truth]


def _projected_params(key: tuple[Any, ...], stemmed: bool = False) -> topics.FusedParams:
    w, a, _lam, s = key[:4]
    return topics.FusedParams(tfidf_weight=w, e5_share=a, neighbours=5, shared_weight=s,
                              threshold=key[4] if len(key) > 4 else topics.FUSED.threshold, projected=True,
                              stemmed=stemmed)


def _projected_scores(texts: Sequence[str], truth: Sequence[str], matrix: Any, fitted: dict[tuple[float, float], Any],
                      keys: Sequence[tuple[Any, ...]] | None = None,
                      cuts: Sequence[float] | None = None, *, stemmed: bool = False,
                      grid: Sequence[tuple[Any, ...]] | None = None) -> dict[tuple[Any, ...], float]:
    """ARI of every (tfidf_weight, e5_share, λ, shared_weight, cut) on these messages, each with the projection
    ``fitted[(e5_share, λ)]`` (fitted on other messages); ``stemmed``: the TF-IDF words stemmed (decision 0320)."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster

    space = topics._Space(list(texts), stemmed=stemmed)
    x = space.vectors()
    similarity = (x @ x.T).toarray()
    codes = np.unique(list(truth), return_inverse=True)[1]
    have = np.ones(len(texts), dtype=bool)
    out: dict[tuple[Any, ...], float] = {}
    for key in (PROJECTED_GRID if grid is None else grid) if keys is None else keys:
        distance = topics.fused_distance(similarity, matrix, have, _projected_params(key), fitted[key[1:3]])
        tree = topics.average_linkage(distance)
        for t in PROJECTED_CUTS if cuts is None else cuts:
            out[(*key, t)] = fast_ari(codes, fcluster(tree, t, criterion="distance"))
    return out


def _fit_projections(matrix: Any, truth: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> dict[Any, Any]:
    return {(a, lam): topics.fit_projection(matrix, _one_offs_apart(truth), e5_share=a, shrinkage=lam)
            for a, lam in dict.fromkeys(k[1:3] for k in keys)}


def choose_projected(texts: Sequence[str], truth: Sequence[str], matrix: Any, *, stemmed: bool = False,
                     grid: Sequence[tuple[Any, ...]] | None = None) -> tuple[Any, ...]:
    """The grid point and cut of the projected grouping picked on these messages alone: their topics split in
    two (:data:`INNER_SEEDS` seeds), a projection fitted on one inner half and scored on the other, both ways
    round; the key with the best mean ARI (ties: the first in grid order)."""
    total: dict[tuple[Any, ...], float] = {}
    reads = 0
    for first, second in halves(truth, repeats=INNER_SEEDS):
        for fit_on, read_on in ((first, second), (second, first)):
            fitted = _fit_projections(matrix[fit_on], [truth[i] for i in fit_on],
                                      PROJECTED_GRID if grid is None else grid)
            scores = _projected_scores([texts[i] for i in read_on], [truth[i] for i in read_on], matrix[read_on],
                                       fitted, stemmed=stemmed, grid=grid)
            reads += 1
            for key, value in scores.items():
                total[key] = total.get(key, 0.0) + value
    return max(total, key=lambda k: round(total[k] / reads, 6))


def read_projected(key: tuple[Any, ...], texts: Sequence[str], truth: Sequence[str], matrix: Any,
                   train: Sequence[int], test: Sequence[int], *, stemmed: bool = False) -> float:
    """ARI on the ``test`` messages grouped alone, with the projection fitted on the ``train`` messages."""
    fitted = _fit_projections(matrix[list(train)], [truth[i] for i in train], [key])
    return _projected_scores([texts[i] for i in test], [truth[i] for i in test], matrix[list(test)], fitted,
                             keys=[key[:4]], cuts=[key[4]], stemmed=stemmed)[key]


def _projected_dict(key: tuple[Any, ...], stemmed: bool = False) -> dict[str, Any]:
    return {**asdict(_projected_params(key, stemmed)), "shrinkage": key[2]}


def cross_validate_projected(texts: Sequence[str], truth: Sequence[str], matrix: Any,
                             splits: Sequence[tuple[list[int], list[int]]], *, stemmed: bool = False,
                             grid: Sequence[tuple[Any, ...]] | None = None) -> dict[str, Any]:
    """Held-out ARI of the projected grouping (decision 0300) over ``splits`` of (choosing, held-out) messages:
    everything (projection, grid point, cut) chosen and fitted on the choosing messages only."""
    import numpy as np

    per: list[dict[str, Any]] = []
    for train, test in splits:
        key = choose_projected([texts[i] for i in train], [truth[i] for i in train], matrix[train], stemmed=stemmed,
                               grid=grid)
        ari = read_projected(key, texts, truth, matrix, train, test, stemmed=stemmed)
        per.append({"params": _projected_dict(key, stemmed), "ari": round(ari, 4),
                    "n_texts": len(test), "n_topics": len({truth[i] for i in test if not
                                                           truth[i].startswith("seul-")})})
    aris = [h["ari"] for h in per]
    return {"mean": round(float(np.mean(aris)), 4), "std": round(float(np.std(aris)), 4), "aris": aris, "per": per}


def paired(after: Sequence[float], before: Sequence[float]) -> dict[str, Any]:
    """The paired gain of ``after`` over ``before`` (held-out ARIs of the same halves): mean, standard error,
    halves better / worse by more than 0.0005."""
    import numpy as np

    diff = np.array(after) - np.array(before)
    return {"gain": round(float(diff.mean()), 4), "se": round(float(diff.std(ddof=1) / len(diff) ** 0.5), 4),
            "better": int((diff > 0.0005).sum()), "worse": int((diff < -0.0005).sum())}


def projected_figures(texts: Sequence[str], truth: Sequence[str], matrix: Any, *, folds: int, repeats: int,
                      baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The shipped (projected, stemmed) grouping's figures, shaped like :func:`cross_validate`'s per method, plus
    ``paired_0250``: its many-topic gain over ``baseline`` (decision 0250's grid) on the same halves, and
    ``projected_0300`` / ``paired_0300``: decision 0300's method (TF-IDF words not stemmed) on the same halves."""
    from sklearn.metrics import adjusted_rand_score
    from sklearn.model_selection import GroupKFold

    stemmed = topics.FUSED.stemmed
    everything = list(range(len(texts)))
    kfold = [(list(a), list(b)) for a, b in GroupKFold(n_splits=folds).split(texts, groups=truth)]
    five = cross_validate_projected(texts, truth, matrix, kfold, stemmed=stemmed)
    key = choose_projected(texts, truth, matrix, stemmed=stemmed)
    out: dict[str, Any] = {
        "ari_cv_mean": five["mean"], "ari_cv_std": five["std"], "ari_folds": five["aris"], "folds": five["per"],
        "params": _projected_dict(key, stemmed),
        "ari_full": round(read_projected(key, texts, truth, matrix, everything, everything, stemmed=stemmed), 4),
        "ari_full_shipped": round(adjusted_rand_score(truth, topics.cluster_labels(texts, vectors=list(matrix))), 4)}
    if repeats:
        both_ways = [split for a, b in halves(truth, repeats=repeats) for split in ((a, b), (b, a))]
        # the order of cross_validate_halves
        many = cross_validate_projected(texts, truth, matrix, both_ways, stemmed=stemmed)
        out.update({"ari_cv2_mean": many["mean"], "ari_cv2_std": many["std"], "ari_halves": many["aris"],
                    "halves": many["per"]})
        if baseline is not None and baseline.get("ari_halves"):
            out["paired_0250"] = paired(many["aris"], baseline["ari_halves"])
        before = cross_validate_projected(texts, truth, matrix, both_ways, stemmed=topics.FUSED_0300.stemmed)
        out["projected_0300"] = {"ari_cv2_mean": before["mean"], "ari_cv2_std": before["std"],
                                 "ari_halves": before["aris"]}
        out["paired_0300"] = paired(many["aris"], before["aris"])
    return out


def unseen(matrix_of: Any, *, path: Path = UNSEEN) -> dict[str, Any]:
    """The shipped grouping (``cluster_labels`` with its defaults) run once on the unseen set; ``matrix_of(texts)``
    gives the stored vectors, or None for the TF-IDF grouping."""
    from sklearn.metrics import adjusted_rand_score

    texts, truth = labelled(path)
    matrix = matrix_of(texts)
    labels = topics.cluster_labels(texts, vectors=None if matrix is None else list(matrix))
    return {"ari": round(adjusted_rand_score(truth, labels), 4), "n_texts": len(texts),
            "n_topics": len({t for t in truth if not t.startswith("seul-")}),
            "n_singletons": sum(t.startswith("seul-") for t in truth)}


def grouping_ms(texts: Sequence[str], matrix: Any | None, *, window: int = 2000) -> dict[str, float]:
    """Milliseconds of :func:`moderation.topics.group_topics` on ``window`` messages (the dashboard's call)."""
    import numpy as np

    n = len(texts)
    repeated = [texts[i % n] if i < n else f"{texts[i % n]} ({i // n})" for i in range(window)]
    out = {}
    start = time.perf_counter()
    topics.group_topics(repeated, min_size=3, max_fit=2000, top=20)
    out["tfidf"] = round((time.perf_counter() - start) * 1000, 1)
    if matrix is not None:
        rng = np.random.default_rng(7)
        vectors = [matrix[i % n] + rng.normal(0, 0.002, matrix.shape[1]).astype(np.float32) for i in range(window)]
        start = time.perf_counter()
        topics.group_topics(repeated, min_size=3, max_fit=2000, top=20, vectors=vectors)
        out["fused"] = round((time.perf_counter() - start) * 1000, 1)
        start = time.perf_counter()
        topics.group_topics(repeated, min_size=3, max_fit=2000, top=20, vectors=vectors, fused=topics.FUSED_0250)
        out["fused_0250"] = round((time.perf_counter() - start) * 1000, 1)
        start = time.perf_counter()
        topics.group_topics(repeated, min_size=3, max_fit=2000, top=20, vectors=vectors, fused=topics.FUSED_0300)
        out["fused_0300"] = round((time.perf_counter() - start) * 1000, 1)
    return out


def run(*, vectors: bool = True, folds: int = 5, window: int = 2000, path: Path = DATA, repeats: int = 5,
        unseen_path: Path | None = UNSEEN) -> dict[str, Any]:
    """The figures of ``bench topics`` (see the module docstring)."""
    texts, truth = labelled(path)
    start = time.perf_counter()
    matrix = stored_vectors(texts) if vectors else None
    embed_s = time.perf_counter() - start
    cv = cross_validate(texts, truth, matrix, folds=folds)
    many = cross_validate_halves(texts, truth, matrix, repeats=repeats) if repeats else None
    if many is not None:
        for m, figures in many.items():
            cv[m].update(figures)
    main = cv["tfidf"]
    if matrix is not None:
        main = cv["projected"] = projected_figures(texts, truth, matrix, folds=folds, repeats=repeats,
                                                   baseline=cv["fused"])
    return {"method": "e5+USE (learned projection) + tfidf, average linkage" if vectors else "tfidf average linkage",
            "ari_cv_mean": main["ari_cv_mean"], "ari_cv_std": main["ari_cv_std"], "ari_folds": main["ari_folds"],
            "ari_cv2_mean": main.get("ari_cv2_mean"), "ari_cv2_std": main.get("ari_cv2_std"),
            "ari_halves": main.get("ari_halves"),
            "ari_full": main["ari_full"], "ari_full_shipped": main["ari_full_shipped"], "params": main["params"],
            "folds": main["folds"], "halves": main.get("halves"), "fallback": cv["tfidf"] if vectors else None,
            "fused_0250": cv["fused"] if vectors else None, "paired_0250": main.get("paired_0250"),
            "projected_0300": main.get("projected_0300"), "paired_0300": main.get("paired_0300"),
            "unseen": None if unseen_path is None else unseen(stored_vectors if vectors else lambda _t: None,
                                                               path=unseen_path),
            "n_texts": len(texts), "n_topics": len({t for t in truth if not t.startswith("seul-")}),
            "n_singletons": sum(t.startswith("seul-") for t in truth), "embed_s": round(embed_s, 1),
            "grouping_ms": grouping_ms(texts, matrix, window=window), "window": window}
