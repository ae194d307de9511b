"""Text normalisation shared by the sentiment features and the risk lexicon (pure, no model).

French social-media text is matched loosely: case and accents are folded, letters repeated for emphasis are
squeezed ("nuuuul" -> "nul"), common leetspeak is undone ("c0nn4rd" -> "connard"), and links / @handles become
placeholders. :func:`fold_with_offsets` keeps a map back to the original characters so that risk flags can
point at the exact span a person wrote.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

URL = re.compile(r"(?:https?://|www\.)\S+|\bhttp\b", re.IGNORECASE)
HANDLE = re.compile(r"(?<![\w.])@\w+")
# words (with inner apostrophes / hyphens kept apart), or any single non-space symbol (punctuation, emoji)
TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "€": "e"})
_LEET_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[0-9@$€])[\w@$€]+\b")
_REPEAT3 = re.compile(r"(\w)\1{2,}")


@lru_cache(maxsize=4096)
def strip_accents(text: str) -> str:
    """``"déçu"`` -> ``"decu"`` (NFKD, combining marks dropped; œ/æ expanded)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def squeeze(text: str) -> str:
    """Letters repeated three times or more become two (``"nuuuul"`` -> ``"nuul"``)."""
    return _REPEAT3.sub(r"\1\1", text)


def unleet(word: str) -> str:
    """Undo digit/symbol substitutions inside a word that also has letters (``"c0nn4rd"`` -> ``"connard"``)."""
    return word.translate(_LEET)


def normalize(text: str) -> str:
    """Lowercase, placeholders for links and handles, repeated letters squeezed (accents kept)."""
    text = URL.sub(" http ", text)
    text = HANDLE.sub(" @user ", text)
    return squeeze(text.lower())


def fold(text: str) -> str:
    """Aggressive matching form: :func:`normalize`, then accents stripped and leetspeak undone."""
    text = strip_accents(normalize(text))
    return _LEET_WORD.sub(lambda m: unleet(m.group(0)), text)


def tokens(text: str) -> list[str]:
    """Word and symbol tokens of already-normalised text."""
    return TOKEN.findall(text)


@lru_cache(maxsize=2048)
def fold_with_offsets(text: str) -> tuple[str, tuple[int, ...]]:
    """Fold ``text`` character by character (lowercase, no accents, leet undone, apostrophes unified).

    Returns the folded string and, for each of its characters, the index of the original character, so a match
    in the folded text maps back to a span of ``text``. Unlike :func:`fold`, links and handles are kept.
    Cached: the risk lexicon and the toxicity features fold the same text.
    """
    if text.isascii():
        folded_text = text.lower().replace("`", "'")
        index: tuple[int, ...] = tuple(range(len(text)))
    else:
        out: list[str] = []
        positions: list[int] = []
        for i, ch in enumerate(text):
            if ch in "’`´ʼ":
                ch = "'"
            for c in (strip_accents(ch.lower()) if not ch.isascii() else ch.lower()):
                out.append(c)
                positions.append(i)
        folded_text, index = "".join(out), tuple(positions)
    # leetspeak inside words that mix letters and digits; same length, so offsets stay valid
    return _LEET_WORD.sub(lambda m: unleet(m.group(0)), folded_text), index
