"""English features of the sentiment model (decision 0240): only models whose lexicon has English valences."""

from __future__ import annotations

from moderation.features import DENSE_NAMES, EN_DENSE_NAMES, Lexicon, extract
from moderation.train_jobs import _lexicon_lists, sentiment_lexicon_lists


def test_french_lists_keep_the_old_features():
    plain = Lexicon.from_lists(_lexicon_lists())
    f = extract("I don\\u2019t like it", plain)
    assert len(f.dense) == len(DENSE_NAMES)
    # the written-out escape is left alone: the toxicity model sees what it saw
    assert "w:\\" in f.words and "w:like" in f.words


def test_english_valences_negation_and_escapes():
    english = Lexicon.from_lists(sentiment_lexicon_lists())
    liked = extract("I like it :)", english)
    negated = extract("I don\\u2019t like it", english)
    assert len(liked.dense) == len(DENSE_NAMES) + len(EN_DENSE_NAMES)
    en_pos, en_neg, is_en = liked.dense[-3:]
    assert en_pos > 0 and en_neg == 0 and is_en == 1.0
    assert "n:like" in negated.words and negated.dense[-3] == 0 and negated.dense[-2] > 0
    assert extract("Le parc est magnifique", english).dense[-1] == 0.0
