"""Near-duplicate messages: the same complaint posted by many, copy-paste campaigns (issue #21).

A small API over the character n-gram comparison of moderation/topics.py, with the threshold measured on the
labelled set ``console/bench/data/near_duplicates_fr.jsonl`` (``measure_threshold``; decision 0172):

- :func:`near_duplicate_groups` — index tuples of the texts that are near-copies of each other;
- :func:`near_copies_of` — which of ``candidates`` are near-copies of one ``text`` (what the inbox asks).

Texts are compared after :func:`moderation.topics.fold` (case, accents, links, @handles), as TF-IDF vectors of
character 3-5-grams; two texts are near-copies when their cosine is at least ``similarity``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

from moderation.topics import fold, near_duplicates

SIMILARITY = 0.65  # chosen on the fit half of the labelled set (pair F1 0.996; other half 0.999), decision 0172
GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(9))


def near_duplicate_groups(texts: Sequence[str], *, similarity: float = SIMILARITY) -> list[tuple[int, ...]]:
    """Groups (index tuples of 2 or more) of texts that are near-copies, linked through one another."""
    return near_duplicates(texts, similarity=similarity)


def near_copies_of(text: str, candidates: Sequence[str], *, similarity: float = SIMILARITY) -> list[int]:
    """Indices of ``candidates`` whose text is a near-copy of ``text`` (direct comparison, no chaining).

    The same cosines as ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform([text, *candidates])``
    (smooth idf, l2 norm), computed from the candidates' n-gram counts kept for the last few candidate lists: the
    inbox compares each opened message with the same 1,000 open ones (issue #17; decision 0200)."""
    if not candidates or not fold(text).strip():
        return []
    sims = _CopyIndex.of(tuple(candidates)).cosines(text)
    return [i for i, s in enumerate(sims) if s >= similarity]


@lru_cache(maxsize=1)
def _analyzer() -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze: Callable[[str], list[str]] = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    return analyze


@lru_cache(maxsize=20_000)
def _ngram_counts(text: str) -> dict[str, int]:
    """Character 3-5-gram counts of one folded text (as TfidfVectorizer counts them)."""
    counts: dict[str, int] = {}
    for gram in _analyzer()(fold(text)):
        counts[gram] = counts.get(gram, 0) + 1
    return counts


class _CopyIndex:
    """The candidates' n-gram count matrix and document frequencies, built once per candidate list."""

    def __init__(self, candidates: tuple[str, ...]) -> None:
        import numpy as np
        from scipy.sparse import csr_matrix

        vocab: dict[str, int] = {}
        indptr, indices, data = [0], [], []
        for c in candidates:
            for gram, n in _ngram_counts(c).items():
                indices.append(vocab.setdefault(gram, len(vocab)))
                data.append(n)
            indptr.append(len(indices))
        self.vocab = vocab
        self.counts = csr_matrix((np.asarray(data, dtype=np.float64), indices, indptr),
                                 shape=(len(candidates), len(vocab)))
        self.squares = self.counts.multiply(self.counts).tocsr()
        self.df = np.bincount(np.asarray(indices, dtype=np.int64), minlength=len(vocab)).astype(np.float64)

    @staticmethod
    @lru_cache(maxsize=4)
    def of(candidates: tuple[str, ...]) -> _CopyIndex:
        return _CopyIndex(candidates)

    def cosines(self, text: str) -> Any:
        """Cosine of each candidate with ``text``, the idf fitted on ``text`` and the candidates together."""
        import numpy as np

        query = _ngram_counts(text)
        docs = self.counts.shape[0] + 1
        df = self.df.copy()
        known = [(self.vocab[g], n) for g, n in query.items() if g in self.vocab]
        cols = np.asarray([j for j, _ in known], dtype=np.int64)
        df[cols] += 1
        idf = np.log((1 + docs) / (1 + df)) + 1
        q = np.zeros(len(self.vocab))
        q[cols] = [n for _, n in known]
        new_idf = np.log((1 + docs) / 2) + 1  # n-grams found in ``text`` only
        q_norm = np.sqrt(float(np.sum((q * idf) ** 2)) + sum(
            (n * new_idf) ** 2 for g, n in query.items() if g not in self.vocab))
        norms = np.sqrt(self.squares @ (idf ** 2))
        dots = self.counts @ (q * idf * idf)
        with np.errstate(divide="ignore", invalid="ignore"):
            sims = np.where((norms > 0) & (q_norm > 0), dots / (norms * q_norm), 0.0)
        return sims


def _pairs(groups: Sequence[tuple[int, ...]]) -> set[tuple[int, int]]:
    return {(a, b) for g in groups for a, b in combinations(sorted(g), 2)}


def pair_scores(texts: Sequence[str], labels: Sequence[str], similarity: float) -> dict[str, float]:
    """Pairwise precision, recall and F1 of :func:`near_duplicate_groups` against the labelled groups."""
    truth: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        truth.setdefault(label, []).append(i)
    gold = _pairs([tuple(v) for v in truth.values()])
    found = _pairs(near_duplicate_groups(texts, similarity=similarity))
    hit = len(gold & found)
    p = hit / len(found) if found else 1.0
    r = hit / len(gold) if gold else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def measure_threshold(path: Path, *, seed: int = 7) -> dict[str, Any]:
    """Split the labelled groups in two halves; pick the threshold on the first, report both halves."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups = sorted({r["group"] for r in rows})
    random.Random(seed).shuffle(groups)
    fit = set(groups[: len(groups) // 2])
    parts = {name: [r for r in rows if (r["group"] in fit) == (name == "fit")] for name in ("fit", "test")}

    def score(name: str, s: float) -> dict[str, float]:
        part = parts[name]
        return pair_scores([r["text"] for r in part], [r["group"] for r in part], s)

    grid = {s: score("fit", s) for s in GRID}
    best = max(GRID, key=lambda s: (grid[s]["f1"], s))
    return {"fit_grid": {str(s): v for s, v in grid.items()}, "chosen": best, "fit": grid[best],
            "test": score("test", best), "test_at_shipped": score("test", SIMILARITY), "shipped": SIMILARITY,
            "rows": len(rows), "groups": len(groups)}
