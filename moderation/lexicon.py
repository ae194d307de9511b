"""The editable risk lexicon (moderation/lexicon_fr.toml) compiled into tolerant regular expressions.

Entries are folded like the text (no accents, lowercase, leetspeak undone), letters may be repeated for
emphasis ("nuuul"), words of a phrase may be separated by spaces, apostrophes or hyphens, and ``*`` matches any
word ending. Matching runs on :func:`moderation.text.fold_with_offsets`, so every hit maps back to the exact
characters of the original message.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from moderation.text import fold, fold_with_offsets

LEXICON_PATH = Path(__file__).with_name("lexicon_fr.toml")
STRONG, WEAK = "strong", "weak"
_SEPARATOR = r"[\s'’\-]+"  # typographic apostrophe too ("m’attarde")


def _term_pattern(term: str) -> str:
    """Regex for one folded entry: repeated letters tolerated, ``*`` = any ending, flexible separators."""
    words = [w for w in re.split(_SEPARATOR, fold(term).strip()) if w]
    parts = []
    for word in words:
        star = word.endswith("*")
        word = word.rstrip("*")
        piece = ""
        for run in re.finditer(r"(.)\1*", word):
            ch, count = run.group(1), len(run.group(0))
            esc = re.escape(ch)
            piece += f"{esc}{{{count},}}" if ch.isalpha() else esc * count
        parts.append(piece + (r"[a-z0-9]*" if star else ""))
    return _SEPARATOR.join(parts)


def compile_terms(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation over ``terms`` with word boundaries (longest entries first), or None if empty."""
    patterns = sorted({_term_pattern(t) for t in terms if fold(t).strip("* ")}, key=len, reverse=True)
    if not patterns:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])")


@dataclass(frozen=True, slots=True)
class Hit:
    """One lexicon match: strength, original-text span and the words matched."""

    strength: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Category:
    """A compiled lexicon section (insult, threat, hate, urgent, spam, self_harm)."""

    name: str
    label: str
    strong: re.Pattern[str] | None
    weak: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    extra: dict[str, Any]

    def hits(self, original: str, folded: str, index: Sequence[int]) -> list[Hit]:
        """Matches in ``folded`` (mapped back to ``original``), minus those inside an ``exclude`` phrase."""
        excluded = [(m.start(), m.end()) for m in self.exclude.finditer(folded)] if self.exclude else []
        found: list[Hit] = []
        taken: list[tuple[int, int]] = []
        for strength, pattern in ((STRONG, self.strong), (WEAK, self.weak)):
            if pattern is None:
                continue
            for m in pattern.finditer(folded):
                if any(m.start() < e and s < m.end() for s, e in excluded):
                    continue  # "au feu" inside "au feu rouge": the exclude phrase wins
                if any(m.start() < e and m.end() > s for s, e in taken):
                    continue  # a weak word inside a strong phrase counts once
                taken.append((m.start(), m.end()))
                start, end = index[m.start()], index[m.end() - 1] + 1
                found.append(Hit(strength=strength, start=start, end=end, text=original[start:end]))
        return found


@dataclass(frozen=True, slots=True)
class RiskLexicon:
    """Every section of lexicon_fr.toml, compiled."""

    categories: dict[str, Category]
    digest: str = ""  # first 8 hex digits of the SHA-256 of the file it was read from ("" when built in memory)

    @property
    def version(self) -> str:
        """``lexicon-<file digest>`` (``lexicon`` when not read from a file): the risk model's identity stored with
        a score when no toxicity model is loaded (decision 0325)."""
        return f"lexicon-{self.digest}" if self.digest else "lexicon"

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> RiskLexicon:
        """Read and compile the TOML file; ConfigError names the file if it is malformed."""
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"risk lexicon {path} cannot be read: {err}") from err
        categories = {}
        for name, section in data.items():
            if not isinstance(section, dict):
                continue
            extra = {k: v for k, v in section.items() if k not in ("label", "strong", "weak", "exclude")}
            categories[name] = Category(name=name, label=str(section.get("label", name)),
                                        strong=compile_terms(section.get("strong", [])),
                                        weak=compile_terms(section.get("weak", [])),
                                        exclude=compile_terms(section.get("exclude", [])), extra=extra)
        return cls(categories=categories, digest=hashlib.sha256(raw).hexdigest()[:8])

    def scan(self, text: str) -> dict[str, list[Hit]]:
        """Hits per category for ``text``."""
        return self.scan_kinds(text, tuple(self.categories))

    def scan_kinds(self, text: str, kinds: Iterable[str]) -> dict[str, list[Hit]]:
        """Hits of the given categories only."""
        folded, index = fold_with_offsets(text)
        return {k: self.categories[k].hits(text, folded, index) for k in kinds if k in self.categories}
