"""Features of the offline sentiment model (pure Python, shared by training and inference).

A text gives four blocks:
- word unigrams and bigrams of the folded text; a unigram inside a negation scope is prefixed ``n:``;
- character 2-5-grams of each folded word padded with spaces (robust to typos and missing accents);
- a few dense counts: polarity-lexicon hits (negation flips them), positive/negative emoji, ``!``, ``?``, links,
  capitals;
- the words looked up in the word-vector table (lowercase, accents kept).
Training (moderation/training.py) and inference (moderation/sentiment_model.py) call the same functions, so
the shipped weights always see the features they were trained on.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from moderation.text import HANDLE, URL, fold, squeeze, strip_accents, tokens

LEXICON_PATH = Path(__file__).with_name("data") / "sentiment_lexicon_fr.toml"
DENSE_NAMES = ("lex_pos", "lex_neg", "emo_pos", "emo_neg", "exclaim", "question", "link", "caps", "length")
NGRAM_MIN, NGRAM_MAX = 2, 5
NEGATION_SPAN = 4
_NGRAM_SIZES = tuple(range(NGRAM_MIN, NGRAM_MAX + 1))
_PUNCT_END = frozenset(".,;:!?()[]\"«»")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled polarity lexicon: exact words, prefixes (``word*``), phrases, emoji, negators."""

    pos_words: frozenset[str]
    neg_words: frozenset[str]
    pos_prefixes: frozenset[str]
    neg_prefixes: frozenset[str]
    pos_phrases: tuple[str, ...]
    neg_phrases: tuple[str, ...]
    pos_emoji: tuple[str, ...]
    neg_emoji: tuple[str, ...]
    negators: frozenset[str]

    @classmethod
    def from_lists(cls, data: dict[str, list[str]]) -> Lexicon:
        """Build from the lists of sentiment_lexicon_fr.toml (or those embedded in a model)."""
        def split(entries: Iterable[str]) -> tuple[set[str], set[str], list[str]]:
            words, prefixes, phrases = set(), set(), []
            for raw in entries:
                entry = fold(raw).strip()
                if " " in entry:
                    phrases.append(entry)
                elif entry.endswith("*"):
                    prefixes.add(entry[:-1])
                elif entry:
                    words.add(entry)
            return words, prefixes, phrases

        pw, pp, pph = split(data.get("positive", []))
        nw, np_, nph = split(data.get("negative", []))
        return cls(pos_words=frozenset(pw), neg_words=frozenset(nw), pos_prefixes=frozenset(pp),
                   neg_prefixes=frozenset(np_), pos_phrases=tuple(pph), neg_phrases=tuple(nph),
                   pos_emoji=tuple(data.get("positive_emoji", [])), neg_emoji=tuple(data.get("negative_emoji", [])),
                   negators=frozenset(fold(w) for w in data.get("negators", [])))

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        """Read the TOML lexicon file."""
        with path.open("rb") as fh:
            return cls.from_lists(tomllib.load(fh))

    def polarity(self, word: str) -> int:
        """+1, -1 or 0 for one folded word (exact match first, then the longest known prefix)."""
        if word in self.pos_words:
            return 1
        if word in self.neg_words:
            return -1
        for end in range(len(word), 2, -1):
            head = word[:end]
            if head in self.neg_prefixes:
                return -1
            if head in self.pos_prefixes:
                return 1
        return 0


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """The four feature blocks of one text (sparse blocks are name -> count)."""

    words: dict[str, int]
    chars: dict[str, int]
    dense: tuple[float, ...]
    vector_words: tuple[str, ...]


def _negation_marks(toks: list[str], negators: frozenset[str]) -> list[bool]:
    """For each token, whether it lies in the scope of a preceding negation."""
    marks = [False] * len(toks)
    left = 0
    for i, tok in enumerate(toks):
        if tok in _PUNCT_END:
            left = 0
            continue
        if left > 0:
            marks[i] = True
            left -= 1
        if tok in negators:
            # "plus" negates only after "ne"/"n'" ("de plus en plus" is not a negation)
            if tok == "plus" and not any(t in ("ne", "n") for t in toks[max(0, i - 3):i]):
                continue
            left = NEGATION_SPAN
    return marks


def _emoji_count(text: str, emoji: tuple[str, ...]) -> int:
    return sum(text.count(e) for e in emoji)


def extract(text: str, lexicon: Lexicon) -> TextFeatures:
    """Compute the feature blocks of ``text``."""
    folded = fold(text)
    toks = tokens(folded)
    marks = _negation_marks(toks, lexicon.negators)
    word_list = [("n:" if negated else "w:") + tok for tok, negated in zip(toks, marks, strict=True)]
    word_list += ["b:" + a + "_" + b for a, b in zip(toks, toks[1:], strict=False)]
    words: dict[str, int] = Counter(word_list)
    grams: list[str] = []
    pos = neg = 0
    for tok, negated in zip(toks, marks, strict=True):
        if not (tok[0].isalnum() or tok[0] == "_"):
            continue
        padded = " " + tok + " "
        size = len(padded)
        grams += [padded[i:i + n] for n in _NGRAM_SIZES for i in range(size - n + 1)]
        polarity = lexicon.polarity(tok)
        if polarity:
            if negated:
                polarity = -polarity
            if polarity > 0:
                pos += 1
            else:
                neg += 1
    chars: dict[str, int] = Counter(grams)
    for phrase in lexicon.pos_phrases:
        if phrase in folded:
            pos += 1
    for phrase in lexicon.neg_phrases:
        if phrase in folded:
            neg += 1
    letters = [c for c in text if c.isalpha()]
    caps = sum(1 for c in letters if c.isupper()) / len(letters) if len(letters) >= 8 else 0.0
    dense = (math.log1p(pos), math.log1p(neg), math.log1p(_emoji_count(text, lexicon.pos_emoji)),
             math.log1p(_emoji_count(text, lexicon.neg_emoji)), math.log1p(text.count("!")),
             math.log1p(text.count("?")), 1.0 if URL.search(text) else 0.0, caps, math.log1p(len(toks)) / 4)
    plain = squeeze(HANDLE.sub(" ", URL.sub(" ", text)).lower())
    vector_words = tuple(w for w in _WORD.findall(plain) if not w.isdigit())
    return TextFeatures(words=words, chars=chars, dense=dense, vector_words=vector_words)


def accent_fallback(word: str) -> str:
    """Key used to look a word up when it was typed without its accents."""
    return strip_accents(word)
