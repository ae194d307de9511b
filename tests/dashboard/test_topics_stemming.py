"""French Snowball stemming of the topic TF-IDF words (decision 0320)."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from moderation import topics
from moderation.topics import FUSED, cluster_labels, content_words, french_stem


def test_inflected_forms_share_one_stem_and_accents_are_folded_after_stemming():
    assert french_stem("poubelles") == french_stem("poubelle") == "poubel"
    assert french_stem("réparée") == french_stem("réparer") == "repar"  # stemmed accented, then folded
    assert french_stem("encombrants") == french_stem("encombrant")
    assert french_stem("stationnement") == french_stem("stationner")


def test_compounds_and_words_with_digits_keep_the_plural_rule_only():
    assert french_stem("nid-de-poule") == "nid-de-poule"
    assert french_stem("rendez-vous") == "rendez-vou"  # as without stemming
    assert french_stem("a6") == "a6"


def test_content_words_stem_the_residents_accented_spelling_and_record_it_for_labels():
    surfaces: dict = {}
    words = content_words("La piscine est fermée, les piscines fermées !", surfaces, french=True)
    assert words == ["piscin", "ferm", "piscin", "ferm"]
    assert surfaces["ferm"].most_common(1)[0][0] in {"fermée", "fermées"}  # labels show a resident's word
    assert content_words("L'école des Tilleuls", french=True) == ["ecol", "tilleul"]  # elision split as before


def test_without_the_option_tokens_are_unchanged():
    assert content_words("Les poubelles ne sont pas ramassées") == ["poubelle", "ramassee"]


def test_the_stemmed_space_joins_inflections_in_the_word_part_only():
    texts = ["bacs ramassés", "bac à ramasser", "horaires piscine"]
    plain, stemmed = topics._Space(texts), topics._Space(texts, stemmed=True)
    p, s = plain.word_matrix, stemmed.word_matrix
    assert (p[0] @ p[1].T).toarray()[0, 0] == 0.0  # « bacs » / « bac », « ramassés » / « ramasser »: none shared
    assert (s[0] @ s[1].T).toarray()[0, 0] > 0.99  # one stem each
    assert (plain.char_matrix != stemmed.char_matrix).nnz == 0  # character n-grams as before
    # texts beyond the fitted ones go through the same stemmed tokens
    assert np.allclose(stemmed.vectors(["bac à ramasser"]).toarray(), stemmed.vectors()[1].toarray())


def test_the_stemmer_is_usable_from_several_threads():
    words = [f"poubelle{'s' * (i % 2)}" for i in range(200)]
    out: list[str] = []
    threads = [threading.Thread(target=lambda w=w: out.append(french_stem(w))) for w in words]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(out) == {"poubel"}


TEXTS = ["Les bacs ne sont pas ramassés rue des Lilas", "Bac à ramasser, rue Pasteur",
         "Horaires de la piscine cet été ?", "La piscine ouvre à quelle heure ?"]


def _noise(n: int) -> list:
    rng = np.random.default_rng(0)
    m = rng.normal(0, 1, (n, 896)).astype(np.float32)
    m[:, :384] /= np.linalg.norm(m[:, :384], axis=1, keepdims=True)
    m[:, 384:] /= np.linalg.norm(m[:, 384:], axis=1, keepdims=True)
    return list(m)


def _groups(labels: list[int]) -> list[int]:
    first: dict[int, int] = {}
    return [first.setdefault(v, len(first)) for v in labels]


def test_the_shipped_grouping_stems_and_joins_two_wordings_of_one_complaint():
    assert FUSED.stemmed and not topics.FUSED_0300.stemmed
    words_only = replace(FUSED, tfidf_weight=1.0, threshold=0.6)  # the vectors (noise here) weigh nothing
    assert _groups(cluster_labels(TEXTS, vectors=_noise(4), fused=words_only)) == [0, 0, 1, 2]
    # « bacs ramassés » / « bac à ramasser » share no word without stemming (only character n-grams)
    unstemmed = replace(words_only, stemmed=False)
    assert _groups(cluster_labels(TEXTS, vectors=_noise(4), fused=unstemmed)) == [0, 1, 2, 3]


def test_the_words_only_grouping_without_vectors_is_not_stemmed(monkeypatch):
    built: list[bool] = []
    real = topics._Space

    def spy(texts, *, stemmed=False):
        built.append(stemmed)
        return real(texts, stemmed=stemmed)

    monkeypatch.setattr(topics, "_Space", spy)
    cluster_labels(TEXTS)  # no vector stored yet: decision 0060's TF-IDF grouping, unchanged
    cluster_labels(TEXTS, vectors=[None, None, None, _noise(1)[0]])  # under half with a vector: the same
    cluster_labels(TEXTS, vectors=_noise(4))
    assert built == [False, False, True]
