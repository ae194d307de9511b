"""moderation/duplicates.near_copies_of computes, from the candidates' kept n-gram counts, the very cosines of a
TF-IDF fitted on the text and its candidates together (issue #17: the inbox's near-copies without refitting)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation import duplicates
from moderation.topics import fold

DATA = Path(__file__).resolve().parents[2] / "console" / "bench" / "data" / "near_duplicates_fr.jsonl"


def _fitted_cosines(text: str, candidates: list[str]) -> np.ndarray:
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform([fold(text)] +
                                                                              [fold(c) for c in candidates])
    return (x[1:] @ x[0].T).toarray().ravel()


def test_same_cosines_as_the_tfidf_fitted_on_text_and_candidates():
    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(3)
    for _ in range(40):
        candidates = [*rng.sample(texts, 120), "", "https://example.org", "@valmont"]
        text = rng.choice(texts)
        got = duplicates._CopyIndex.of(tuple(candidates)).cosines(text)
        assert np.allclose(got, _fitted_cosines(text, candidates), atol=1e-12)
        expected = [i for i, s in enumerate(_fitted_cosines(text, candidates)) if s >= duplicates.SIMILARITY]
        assert duplicates.near_copies_of(text, candidates) == expected


def test_a_text_with_ngrams_no_candidate_has_and_a_candidate_list_seen_again():
    candidates = ("Nid de poule rue Victor Hugo", "nid de poule rue victor hugo !!", "Merci pour le feu d'artifice")
    assert duplicates.near_copies_of("Nid de poule rue Victor-Hugo", candidates) == [0, 1]
    assert duplicates.near_copies_of("Zzzz qwxy", candidates) == []
    assert duplicates._CopyIndex.of(candidates) is duplicates._CopyIndex.of(tuple(candidates))
