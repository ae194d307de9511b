"""Features of the offline sentiment model (pure Python, shared by training and inference).

A text gives four blocks:
- word unigrams and bigrams of the folded text; a unigram inside a negation scope is prefixed ``n:``;
- character 2-5-grams of each folded word padded with spaces (robust to typos and missing accents);
- a few dense counts: polarity-lexicon hits (negation flips them), positive/negative emoji, ``!``, ``?``, links,
  capitals;
- the words looked up in the word-vector table (lowercase, accents kept).
When the lexicon carries English valences (``en_valence``, the sentiment model's since decision 0240), written-out
``\\uXXXX`` escapes are decoded, ``n't`` becomes ``not`` and three dense counts follow the others (English
positive / negative valence sums, an English flag; with ``en_gated`` the sums are 0 unless the flag is set); models
without them (toxicity) see exactly the old features.
Training (moderation/training.py) and inference (moderation/sentiment_model.py) call the same functions, so
the shipped weights always see the features they were trained on.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.text import HANDLE, URL, fold, squeeze, strip_accents, tokens

LEXICON_PATH = Path(__file__).with_name("data") / "sentiment_lexicon_fr.toml"
EN_LEXICON_PATH = Path(__file__).with_name("data") / "sentiment_lexicon_en.tsv"
DENSE_NAMES = ("lex_pos", "lex_neg", "emo_pos", "emo_neg", "exclaim", "question", "link", "caps", "length")
# added after DENSE_NAMES when the lexicon has English valences (decision 0240); models without them keep 9
EN_DENSE_NAMES = ("en_pos", "en_neg", "en_lang")
NGRAM_MIN, NGRAM_MAX = 2, 5
NEGATION_SPAN = 4
_NGRAM_SIZES = tuple(range(NGRAM_MIN, NGRAM_MAX + 1))
_PUNCT_END = frozenset(".,;:!?()[]\"«»")
_WORD = re.compile(r"\w+", re.UNICODE)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")  # "\u2019" written out as text (seen in scraped English tweets)
_NT = re.compile(r"n['\u2019]t\b")
EN_NEGATION_FACTOR = -0.74  # a negated English valence flips and weakens (VADER's constant)
# a few very frequent function words of each language: a text with more English than French ones is English
_EN_STOP = frozenset("the a an and is are was were i you it this that to of in for on with my me your not be have "
                     "has do does at so just but what they we he she".split())
_FR_STOP = frozenset("le la les un une des et est sont je tu il elle nous vous ils de du au aux pour sur avec dans "
                     "mon ma mes ce cette qui que pas ne en c j l d qu".split())


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
    en_words: dict[str, float] = field(default_factory=dict)  # folded English word -> valence (-4 .. 4)
    en_emoticons: dict[str, float] = field(default_factory=dict)  # emoticon as typed -> valence
    en_gated: bool = False  # English valence sums count only in texts flagged English (decision 0270)

    @classmethod
    def from_lists(cls, data: dict[str, Any]) -> Lexicon:
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
                   negators=frozenset(fold(w) for w in data.get("negators", [])),
                   en_words={fold(w): float(v) for w, v in data.get("en_valence", {}).items() if w.isalpha()},
                   en_emoticons={w: float(v) for w, v in data.get("en_valence", {}).items() if not w.isalnum()},
                   en_gated=bool(data.get("en_gated", False)))

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


def read_en_valence(path: Path = EN_LEXICON_PATH) -> dict[str, float]:
    """The English valence lexicon (token -> mean valence) of ``sentiment_lexicon_en.tsv``."""
    out: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or "\t" not in line:
                continue
            token, value = line.rstrip("\n").split("\t")[:2]
            out[token] = float(value)
    return out


def _english(text: str) -> str:
    """English-aware text: written-out ``\\uXXXX`` escapes decoded, ``n't`` split into ``not``."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _NT.sub(" not", text)


def _emoji_count(text: str, emoji: tuple[str, ...]) -> int:
    return sum(text.count(e) for e in emoji)


def extract(text: str, lexicon: Lexicon) -> TextFeatures:
    """Compute the feature blocks of ``text``."""
    english = bool(lexicon.en_words)
    if english:
        text = _english(text)
    folded = fold(text)
    toks = tokens(folded)
    marks = _negation_marks(toks, lexicon.negators)
    word_list = [("n:" if negated else "w:") + tok for tok, negated in zip(toks, marks, strict=True)]
    word_list += ["b:" + a + "_" + b for a, b in zip(toks, toks[1:], strict=False)]
    words: dict[str, int] = Counter(word_list)
    grams: list[str] = []
    pos = neg = 0
    en_pos = en_neg = 0.0
    for tok, negated in zip(toks, marks, strict=True):
        if not (tok[0].isalnum() or tok[0] == "_"):
            continue
        if english and tok in lexicon.en_words:
            valence = lexicon.en_words[tok] * (EN_NEGATION_FACTOR if negated else 1.0)
            if valence > 0:
                en_pos += valence
            else:
                en_neg -= valence
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
    dense: tuple[float, ...] = (
        math.log1p(pos), math.log1p(neg), math.log1p(_emoji_count(text, lexicon.pos_emoji)),
        math.log1p(_emoji_count(text, lexicon.neg_emoji)), math.log1p(text.count("!")),
        math.log1p(text.count("?")), 1.0 if URL.search(text) else 0.0, caps, math.log1p(len(toks)) / 4)
    if english:
        for piece in text.split():
            valence = lexicon.en_emoticons.get(piece, 0.0)
            if valence > 0:
                en_pos += valence
            elif valence < 0:
                en_neg -= valence
        is_en = 1.0 if sum(t in _EN_STOP for t in toks) > sum(t in _FR_STOP for t in toks) else 0.0
        if lexicon.en_gated and not is_en:
            en_pos = en_neg = 0.0
        dense += (math.log1p(en_pos), math.log1p(en_neg), is_en)
    plain = squeeze(HANDLE.sub(" ", URL.sub(" ", text)).lower())
    vector_words = tuple(w for w in _WORD.findall(plain) if not w.isdigit())
    return TextFeatures(words=words, chars=chars, dense=dense, vector_words=vector_words)


def accent_fallback(word: str) -> str:
    """Key used to look a word up when it was typed without its accents."""
    return strip_accents(word)
