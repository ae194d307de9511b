"""Platform lengths: X's weighted length (twitter-text v3) on tricky inputs, links, emoji, other platforms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import Platform
from editorial.lengths import count_for, counts_by_platform, find_emoji, x_count
from editorial.links import find_links, host_allowed

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"


@pytest.mark.parametrize(("text", "expected"), [
    ("This is a test.", 15),
    ("http://test.com", 23),  # any link counts 23
    ("https://www.valmont.fr/un/chemin/tres/long/vers/une/page?avec=des&parametres=1", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
    ("Déjà été à l'hôtel de ville", 27),  # accents weigh 1
    ("e\u0301te\u0301", 3),  # decomposed accents are NFC-normalised first
    ("故人西辞黄鹤楼", 14),  # CJK weighs 2
    ("저찀쯿쿿", 8),  # Hangul weighs 2
    ("\U00010000\U0010ffff", 4),  # astral characters weigh 2
    ("😷👾😡🔥💩", 10),  # emoji weigh 2
    ("🙋🏽👨\u200d🎤", 4),  # skin tone and ZWJ sequences are one emoji each
    ("H🐱☺" + FAMILY, 7),  # conformance: family emoji = 2
    ("🇫🇷", 2), ("1️⃣", 2), ("❤️", 2), ("🫠", 2), ("👩🏽\u200d💻", 2),
    ("©", 1), ("©️", 2),  # text-style pictograph counts as emoji only with U+FE0F
    ("…", 2), ("€", 2),  # outside the light ranges
    ("— ’ “ ”", 7),  # general punctuation in the light ranges
    ("Merci\u202f!", 8),  # French narrow no-break space weighs 2
    ("paris.fr", 8),  # name.ccTLD without protocol is not a link on X
    ("www.paris.fr", 23), ("paris.fr/proprete", 23), ("valmont.co", 23),
    ("julie@valmont.fr", 16),  # e-mail addresses are not links
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),  # 64-char label: no link
])
def test_x_weighted_length(text, expected):
    assert x_count(text).length == expected


def test_x_overflow_points_at_first_character_past_the_limit():
    text = "a" * 279 + "éé"
    count = x_count(text)
    assert (count.length, count.over, count.overflow_at) == (281, 1, 280)
    assert x_count("a" * 280).overflow_at is None
    assert x_count("a" * 270 + "🐱🐱🐱🐱🐱🐱").overflow_at == 275


def test_links_follow_twitter_text_rules():
    found = [link.url for link in find_links(
        "foo.baz foo.co.jp www.xxxxxxx.baz www.foo.co.uk foo.comm foo.jp t.co/abcde bit.ly/abcde")]
    assert found == ["foo.co.jp", "www.foo.co.uk", "t.co/abcde", "bit.ly/abcde"]
    text = "Voir https://www.valmont.fr/proprete. Merci ! (et https://fr.wikipedia.org/wiki/Foo_(bar))"
    assert [link.url for link in find_links(text)] == ["https://www.valmont.fr/proprete",
                                                       "https://fr.wikipedia.org/wiki/Foo_(bar)"]
    cjk = "twitter.comこれは日本語です。example.com中国語http://☃.net/"
    assert [link.host for link in find_links(cjk)] == ["twitter.com", "example.com", "☃.net"]
    assert [link.url for link in find_links("paris.fr", include_short=True)] == ["paris.fr"]
    assert find_links("écrire à julie@valmont.fr ou #valmont.fr") == ()


def test_host_allowed_covers_subdomains_only():
    allowed = frozenset({"valmont.fr", "service-public.fr"})
    assert host_allowed("www.valmont.fr", allowed) and host_allowed("valmont.fr", allowed)
    assert not host_allowed("valmont.fr.evil.com", allowed) and not host_allowed("notvalmont.fr", allowed)


def test_emoji_sequences_are_single_spans():
    text = "A" + FAMILY + "B🇫🇷C"
    assert [(s.start, s.end) for s in find_emoji(text)] == [(1, 8), (9, 11)]


@pytest.mark.parametrize(("platform", "text", "length", "limit"), [
    (Platform.FACEBOOK, "é" * 10, 10, 8000),
    (Platform.MASTODON, "voir https://www.valmont.fr/une/page/tres/longue", 28, 500),
    (Platform.BLUESKY, "ok " + FAMILY, 4, 300),  # graphemes
    (Platform.DEMO, "故", 2, 280),  # the demo behaves like X
])
def test_other_platforms(platform, text, length, limit):
    count = count_for(platform, text)
    assert (count.length, count.limit) == (length, limit)


def test_counts_by_platform_for_the_composer_preview():
    counts = counts_by_platform("Merci 🙏 https://www.valmont.fr/x", (Platform.X, Platform.FACEBOOK), {"facebook": 20})
    assert counts[Platform.X].length == 6 + 2 + 1 + 23
    assert (counts[Platform.FACEBOOK].length, counts[Platform.FACEBOOK].limit) == (32, 20)


PIECES = ["a", "é", " ", "故", "…", "\u202f", "🐱", "🇫🇷", FAMILY, "👍🏽", "1️⃣", "Ж", "—"]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_overflow_index_agrees_with_prefix_lengths(pieces):
    """Without links, the prefix before the overflow index fits and the prefix including it does not."""
    text = "".join(pieces)
    total = x_count(text).length
    limit = max(0, total - 3)
    at = x_count(text, limit).overflow_at
    if total <= limit:
        assert at is None
        return
    assert at is not None and x_count(text[:at]).length <= limit
    end = next((e.end for e in find_emoji(text) if e.start == at), at + 1)
    assert x_count(text[:end]).length > limit
