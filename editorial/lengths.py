"""Count a text the way each platform counts it.

X (twitter-text config v3, the one X's own clients use): the text is NFC-normalised; each code point weighs 1
if it falls in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F or U+2032-U+2037, and 2 otherwise (CJK, "…",
"€", the narrow no-break space U+202F of French typography, astral characters); every link counts 23 whatever
its length (:mod:`editorial.links`); every emoji counts 2, a whole ZWJ/skin-tone/flag/keycap sequence
included. The limit is 280. Mastodon counts code points with every link as 23 (limit 500); Bluesky counts
grapheme clusters (300); Facebook and Instagram count characters.
See docs/decisions/0020-charter-engine.md for why this is implemented here rather than taken from PyPI.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from core.models import Platform
from editorial.links import find_links

X_URL_WEIGHT = 23
_X_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# One emoji as twemoji-parser (used by twitter-text v3) sees it: flags, keycaps, tag sequences, and
# pictographs with their variation selector / skin tone, chained by ZWJ. Text-style pictographs (©, ®, ‼)
# count as emoji only with U+FE0F.
_PICT = r"(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Extended_Pictographic}(?=\p{Emoji_Modifier}))"
_PART = rf"{_PICT}\uFE0F?\p{{Emoji_Modifier}}?(?:[\U000E0020-\U000E007E]+\U000E007F)?"
EMOJI_RE = regex.compile(
    rf"\p{{Regional_Indicator}}{{2}}|[#*0-9]\uFE0F?\u20E3|{_PART}(?:\u200D(?:{_PART}|\p{{Extended_Pictographic}}\uFE0F?))*",
    regex.V1,
)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range ``[start, end)`` of code-point indexes in a text."""

    start: int
    end: int


def find_emoji(text: str) -> tuple[Span, ...]:
    """Every emoji (whole sequences) in ``text``."""
    if text.isascii():
        return ()
    return _find_emoji(text)


@lru_cache(maxsize=64)
def _find_emoji(text: str) -> tuple[Span, ...]:
    return tuple(Span(m.start(), m.end()) for m in EMOJI_RE.finditer(text))


def _x_weight(ch: str) -> int:
    cp = ord(ch)
    for lo, hi in _X_RANGES:
        if lo <= cp <= hi:
            return 1
    return 2


@dataclass(frozen=True, slots=True)
class Count:
    """A text's length as a platform counts it, the limit, and where the text starts to overflow."""

    length: int
    limit: int
    overflow_at: int | None  # index in the counted (NFC) text of the first character past the limit

    @property
    def over(self) -> int:
        """How many units too long (0 if it fits)."""
        return max(0, self.length - self.limit)


_HEAVY_RE = regex.compile(r"[^\u0000-\u10FF\u2000-\u200D\u2010-\u201F\u2032-\u2037]")


def _x_total(text: str, links: tuple[tuple[int, int], ...], emoji: tuple[Span, ...]) -> int:
    """Weighted length without walking character by character: len + heavy characters, then each link and
    emoji replaced by its fixed weight."""
    def weight(a: int, b: int) -> int:
        part = text[a:b]
        return len(part) + (0 if part.isascii() else len(_HEAVY_RE.findall(part)))

    total = weight(0, len(text))
    for a, b in links:
        total += X_URL_WEIGHT - weight(a, b)
    for e in emoji:
        if not any(a <= e.start < b for a, b in links):
            total += 2 - weight(e.start, e.end)
    return total


@lru_cache(maxsize=64)
def x_count(text: str, limit: int = 280) -> Count:
    """X's weighted length of ``text`` (twitter-text v3) and the index where it overflows ``limit``."""
    text = unicodedata.normalize("NFC", text)
    link_spans = tuple((link.start, link.end) for link in find_links(text))
    emoji_spans = find_emoji(text)
    total = _x_total(text, link_spans, emoji_spans)
    if total <= limit:
        return Count(total, limit, None)
    links = dict(link_spans)
    emoji = {e.start: e.end for e in emoji_spans}
    running = 0
    i, n = 0, len(text)
    while i < n:
        if i in links:
            weight, nxt = X_URL_WEIGHT, links[i]
        elif i in emoji:
            weight, nxt = 2, emoji[i]
        else:
            weight, nxt = _x_weight(text[i]), i + 1
        running += weight
        if running > limit:
            return Count(total, limit, i)
        i = nxt
    return Count(total, limit, None)


def _simple_count(units: list[int], limit: int) -> Count:
    """``units[k]`` = end index of the k-th counted unit."""
    overflow_at = None
    if len(units) > limit:
        overflow_at = units[limit - 1] if limit else 0
    return Count(len(units), limit, overflow_at)


def mastodon_count(text: str, limit: int = 500) -> Count:
    """Mastodon: code points, every link counting 23."""
    text = unicodedata.normalize("NFC", text)
    links = {link.start: link.end for link in find_links(text)}
    total, i, overflow_at = 0, 0, None
    while i < len(text):
        weight, nxt = (X_URL_WEIGHT, links[i]) if i in links else (1, i + 1)
        total += weight
        if overflow_at is None and total > limit:
            overflow_at = i
        i = nxt
    return Count(total, limit, overflow_at)


def grapheme_count(text: str, limit: int) -> Count:
    """Bluesky: user-perceived characters (grapheme clusters)."""
    text = unicodedata.normalize("NFC", text)
    return _simple_count([m.end() for m in regex.finditer(r"\X", text)], limit)


def char_count(text: str, limit: int) -> Count:
    """Facebook / Instagram: characters (code points)."""
    text = unicodedata.normalize("NFC", text)
    return Count(len(text), limit, limit if len(text) > limit else None)


DEFAULT_LIMITS: dict[Platform, int] = {
    Platform.X: 280,
    Platform.FACEBOOK: 8000,  # a comment reply; a Page post allows 63,206
    Platform.INSTAGRAM: 2200,
    Platform.MASTODON: 500,
    Platform.BLUESKY: 300,
    Platform.DEMO: 280,  # the demo sandbox behaves like X
}


def count_for(platform: Platform, text: str, limit: int | None = None) -> Count:
    """``text`` counted as ``platform`` counts it, against ``limit`` (default: the platform's)."""
    limit = DEFAULT_LIMITS.get(platform, 280) if limit is None else limit
    if platform in (Platform.X, Platform.DEMO):
        return x_count(text, limit)
    if platform is Platform.MASTODON:
        return mastodon_count(text, limit)
    if platform is Platform.BLUESKY:
        return grapheme_count(text, limit)
    return char_count(text, limit)


def counts_by_platform(text: str, platforms: tuple[Platform, ...] = (Platform.X, Platform.FACEBOOK),
                       limits: dict[str, int] | None = None) -> dict[Platform, Count]:
    """``text`` counted for each platform (the composer's "as it will appear" preview)."""
    limits = limits or {}
    return {p: count_for(p, text, limits.get(str(p))) for p in platforms}
