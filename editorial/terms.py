"""Accent- and case-insensitive term lists, precompiled for fast matching in drafts.

Text and terms are *folded* (case-folded, accents removed, ``œ`` -> ``oe``, typographic apostrophes unified)
and cut into words; a term matches a run of whole words (``porte-à-porte`` matches "porte à porte"). A term
ending in ``*`` matches any word starting with it (``réalis*`` matches "réalisations"). Matching is one
dictionary lookup per word, so 500 terms cost no more than 5.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")
_WORD = re.compile(r"[^\W_]+")
_SPECIAL = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'", "ʼ": "'"}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch.isascii():
        return ch.lower()
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base.casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """Folded ``text`` and, for each folded character, the index of the original character it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def fold_words(text: str) -> tuple[str, ...]:
    """The folded words of ``text`` (used for terms and lists)."""
    return tuple(_WORD.findall(fold(text)[0]))


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """A term found in a text: the span in the original text and the payload given for that term."""

    start: int
    end: int
    text: str
    payload: T


class TermIndex(Generic[T]):
    """Terms mapped to payloads, matched on whole folded words."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        """Index ``(term, payload)`` pairs; empty terms are ignored."""
        self._exact: dict[str, list[tuple[tuple[str, ...], T]]] = {}
        self._prefix: dict[str, list[tuple[tuple[str, ...], T]]] = {}  # keyed by the first 3 letters
        self.size = 0
        for term, payload in entries:
            words = fold_words(term.strip().rstrip("*"))
            if not words:
                continue
            self.size += 1
            if term.strip().endswith("*") and len(words[0]) >= 3:
                self._prefix.setdefault(words[0][:3], []).append((words, payload))
            else:
                self._exact.setdefault(words[0], []).append((words, payload))

    def __len__(self) -> int:
        return self.size

    def find(self, text: str, words: list[tuple[str, int, int]] | None = None) -> Iterator[Match[T]]:
        """Yield every occurrence of an indexed term in ``text`` (longest match first at each word)."""
        if not self.size:
            return
        if words is None:
            words = tokenize(text)
        n = len(words)
        i = 0
        while i < n:
            word = words[i][0]
            best: tuple[int, T] | None = None
            for seq, payload in self._exact.get(word, ()):
                k = len(seq)
                if k > (best[0] if best else 0) and i + k <= n and all(words[i + j][0] == seq[j] for j in range(k)):
                    best = (k, payload)
            for seq, payload in self._prefix.get(word[:3], ()):
                k = len(seq)
                if (k > (best[0] if best else 0) and i + k <= n
                        and all(words[i + j][0] == seq[j] for j in range(k - 1))
                        and words[i + k - 1][0].startswith(seq[-1])):
                    best = (k, payload)
            if best:
                start, end = words[i][1], words[i + best[0] - 1][2]
                yield Match(start, end, text[start:end], best[1])
                i += best[0]
            else:
                i += 1


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Folded words of ``text`` with their spans in the *original* text."""
    folded, index = fold(text)
    out = []
    for m in _WORD.finditer(folded):
        start = index[m.start()]
        end = index[m.end() - 1] + 1
        out.append((m.group(0), start, end))
    return out
