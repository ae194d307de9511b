"""Accessibility rules (RGAA): CamelCase hashtags, hashtags and emoji at the end, no decorative Unicode
letters that screen readers spell out, a reasonable number of emoji, alternative text on images."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from editorial.charter import Finding, Severity
from editorial.lengths import find_emoji
from editorial.links import find_links

if TYPE_CHECKING:
    from editorial.engine import CheckContext, CompiledCharter

HASHTAG_RE = re.compile(r"(?<![\w&/])[#＃]([^\W_][\w]*)")
_MENTION_RE = re.compile(r"(?<![\w@])@\w+")
_CONTENT_WORD = re.compile(r"[^\W_]+")
# Mathematical alphanumerics (𝐛𝐨𝐥𝐝, 𝒮𝒸𝓇𝒾𝓅𝓉, 𝔣𝔯𝔞𝔨𝔱𝔲𝔯), fullwidth (Ｆｕｌｌ), circled/parenthesised (ⓐ, ⒜),
# squared/negative squared letters (🄰, 🅰), small capitals (ᴘᴀʀɪs) and modifier letters (ᵃᵇ).
_DECO = ("[\U0001D400-\U0001D7FF\uFF21-\uFF3A\uFF41-\uFF5A\u24B6-\u24E9\u249C-\u24B5\U0001F130-\U0001F189"
         "\u1D00-\u1D2B\u1D43-\u1D5B\u02B0-\u02B8\u1D62-\u1D6A]")
_DECORATIVE_RE = re.compile(f"{_DECO}(?:[\u0300-\u036f]|[ \u00a0]?{_DECO})*")
_SMALL_CAPS = str.maketrans("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz")
_TOO_LONG_LOWER = 12


def _plain(text: str) -> str:
    """Decorative letters turned back into plain ones (NFKC, small capitals, squared letters)."""
    out = []
    for ch in text.translate(_SMALL_CAPS):
        cp = ord(ch)
        if 0x1F130 <= cp <= 0x1F149:
            out.append(chr(ord("A") + cp - 0x1F130))
        elif 0x1F170 <= cp <= 0x1F189:
            out.append(chr(ord("A") + cp - 0x1F170))
        else:
            out.append(unicodedata.normalize("NFKC", ch).strip("()") or ch)
    return "".join(out)


def decorative_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Styled Unicode letters are read letter by letter (or not at all) by screen readers."""
    sev = cc.charter.severity("decorative_unicode")
    if sev is Severity.OFF or text.isascii():
        return []
    out = []
    for m in _DECORATIVE_RE.finditer(text):
        plain = _plain(m.group(0))
        out.append(Finding(code="decorative_unicode", severity=sev, start=m.start(), end=m.end(), suggestion=plain,
                           message=(f"« {m.group(0)} » utilise des lettres décoratives que les lecteurs d'écran "
                                    f"épellent ou ignorent : écrivez « {plain} » en texte normal.")))
    return out


def _hashtag_fix(tag: str, cc: CompiledCharter) -> tuple[bool, str | None]:
    """Whether ``tag`` needs rewriting for screen readers, and the fix when one is known."""
    known = cc.hashtags.get(tag.casefold())
    if known is not None:
        return known != tag, known
    letters = [c for c in tag if c.isalpha()]
    if letters and all(c.islower() for c in letters) and len(letters) >= _TOO_LONG_LOWER:
        return True, None  # several words glued together in lower case: cannot guess the cut
    if len(letters) > 4 and all(c.isupper() for c in letters) and tag not in cc.acronyms:
        return True, tag[:1] + tag[1:].lower()
    return False, None


def hashtag_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Multi-word hashtags in CamelCase (#ConseilMunicipal), so screen readers can say the words."""
    sev = cc.charter.severity("hashtag_camelcase")
    if sev is Severity.OFF or ("#" not in text and "＃" not in text):
        return []
    out = []
    for m in HASHTAG_RE.finditer(text):
        tag = m.group(1)
        bad, fix = _hashtag_fix(tag, cc)
        if not bad:
            continue
        hint = f" : « #{fix} »" if fix else " (une majuscule au début de chaque mot, ex. #ConseilMunicipal)"
        out.append(Finding(code="hashtag_camelcase", severity=sev, start=m.start(), end=m.end(),
                           suggestion=f"#{fix}" if fix else None,
                           message=f"Écrivez le hashtag « #{tag} » en CamelCase pour les lecteurs d'écran{hint}."))
    return out


def position_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Hashtags and emoji go at the end of the message, after the sentence (not inside it)."""
    sev = cc.charter.severity("hashtag_emoji_position")
    body_end = ctx.body_end(text)
    body = text[:body_end]
    if sev is Severity.OFF or ("#" not in body and body.isascii()):
        return []
    marks = [(m.start(), m.end(), "hashtag") for m in HASHTAG_RE.finditer(body)]
    marks += [(e.start, e.end, "emoji") for e in find_emoji(text) if e.end <= body_end]
    if not marks:
        return []
    skip = [(m.start(), m.end()) for m in _MENTION_RE.finditer(body)]
    skip += [(link.start, link.end) for link in find_links(text) if link.start < body_end]
    skip += [(a, b) for a, b, _ in marks]
    last_word = -1
    for w in _CONTENT_WORD.finditer(body):
        if not any(a <= w.start() < b for a, b in skip):
            last_word = w.start()
    out = []
    for start, end, kind in sorted(marks):
        if start < last_word:
            what = "le hashtag" if kind == "hashtag" else "l'emoji"
            out.append(Finding(code="hashtag_emoji_position", severity=sev, start=start, end=end,
                               message=(f"Placez {what} « {body[start:end]} » à la fin du message : au milieu d'une "
                                        "phrase, il coupe la lecture par les lecteurs d'écran.")))
    return out


def emoji_count_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Each emoji is read aloud by its name: keep them few."""
    sev = cc.charter.severity("too_many_emoji")
    if sev is Severity.OFF or text.isascii():
        return []
    found = find_emoji(text)
    if len(found) <= cc.charter.max_emoji:
        return []
    extra = found[cc.charter.max_emoji]
    return [Finding(code="too_many_emoji", severity=sev, start=extra.start, end=found[-1].end,
                    message=(f"{len(found)} emoji : les lecteurs d'écran lisent le nom de chacun ; "
                             f"{cc.charter.max_emoji} au plus."))]


def alt_text_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """Every image needs a meaningful alternative text."""
    sev = cc.charter.severity("image_alt_missing")
    if sev is Severity.OFF:
        return []
    out = []
    for i, media in enumerate(ctx.media):
        if media.kind != "image":
            continue
        alt = media.alt.strip()
        if len(alt) >= 5 and alt.casefold() != media.name.strip().casefold():
            continue
        label = media.name or f"image {i + 1}"
        out.append(Finding(code="image_alt_missing", severity=sev, start=len(text), end=len(text),
                           message=(f"L'image « {label} » n'a pas de texte alternatif utile : décrivez ce qu'elle "
                                    "montre pour les personnes qui ne la voient pas.")))
    return out
