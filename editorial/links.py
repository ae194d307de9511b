"""Find links in a draft the way X's twitter-text does (with or without ``http(s)://``).

Rules followed (twitter-text ``extractUrlsWithIndices``, conformance suite ``extract.yml``):
- ``http://`` and ``https://`` links may use any Unicode domain; links without a protocol only ASCII domains;
- the last label must be a real top-level domain (``editorial/data/tlds.txt``): ``foo.comm`` is no link;
- without a protocol, ``name.cctld`` alone (``paris.fr``) is not a link unless a path follows (``paris.fr/x``)
  or the ccTLD is ``.co``/``.tv``; ``www.paris.fr`` is;
- a link cannot follow ``@``, ``#``, ``$`` or a letter/digit (e-mail addresses are not links), and a link
  without protocol cannot follow ``-``, ``_``, ``.`` or ``/``;
- domain labels are at most 63 characters once punycode-encoded;
- trailing punctuation (``.``, ``,``, ``!``, ``?``, ``:``, unbalanced ``)``...) is not part of the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_TLD_FILE = Path(__file__).parent / "data" / "tlds.txt"
_SPECIAL_SHORT_CCTLDS = frozenset({"co", "tv"})


@lru_cache(maxsize=1)
def tlds() -> frozenset[str]:
    """Every known top-level domain, lower case (IDN TLDs in Unicode form)."""
    lines = _TLD_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a text: its span, the text as written, and its host (lower case, no port)."""

    start: int
    end: int
    url: str
    host: str
    has_protocol: bool


# Characters that may not start a domain label (ASCII punctuation except nothing, spaces, CJK punctuation).
_NOT_DOMAIN = r"\s!-/:-@\[-`{-~\u00a0\u1680\u2000-\u206f\u3000-\u303f\ufe30-\ufe4f\uff00-\uff0f\uff1a-\uff20"
_U = f"[^{_NOT_DOMAIN}]"  # one Unicode domain character (no dash, no underscore)
_U_LABEL = f"{_U}(?:(?:{_U}|-)*{_U})?"
_U_SUB = f"{_U}(?:(?:{_U}|[-_])*{_U})?"
_A = r"[a-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]"
_A_LABEL = f"{_A}(?:(?:{_A}|-)*{_A})?"
_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"

_PROTO_RE = re.compile(rf"(?i)(https?://)(?:[^\s/@:]+(?::[^\s/@]*)?@)?({_IPV4}|(?:{_U_SUB}\.)*{_U_LABEL}\.{_U_LABEL})")
_BARE_RE = re.compile(rf"(?i)(?:{_A_LABEL}\.)+{_A_LABEL}")

_LATIN = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0300-\u036f\u1e00-\u1eff\u0400-\u04ff"
_PATH_CHAR = rf"[a-z0-9!*';:=+,.$/%#\[\]\-\u2013_~|&@(){_LATIN}]"
_PATH_END = rf"[a-z0-9=_#/+\-){_LATIN}]"
_QUERY_CHAR = r"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]"
_QUERY_END = r"[a-z0-9_&=#/\-]"
_TAIL_RE = re.compile(rf"(?i)(?::\d{{1,5}})?(?:/(?:{_PATH_CHAR}*{_PATH_END})?)?(?:\?(?:{_QUERY_CHAR}*{_QUERY_END})?)?")
_BAD_BEFORE = re.compile(r"[A-Za-z0-9@\uff20$#\uff03]")
_BAD_BEFORE_BARE = re.compile(r"[-_./]")
_TLD_FOLLOW = re.compile(r"[0-9a-z@+\-]", re.IGNORECASE)


def _label_ok(label: str) -> bool:
    try:
        encoded = label.encode("idna") if not label.isascii() else label.encode()
    except UnicodeError:
        return False
    return 0 < len(encoded) <= 63


def _trim_tld(domain: str, text: str, end: int) -> int | None:
    """Return the end of ``domain`` cut after a real TLD (``example.com中国`` -> after ``com``), or None."""
    dot = domain.rfind(".")
    last = domain[dot + 1:].lower()
    known = tlds()
    for k in range(len(last), 1, -1):
        if last[:k] in known:
            cut = end - (len(last) - k)
            nxt = text[cut] if cut < len(text) else ""
            if not nxt or not _TLD_FOLLOW.match(nxt):
                return cut
    return None


def _balance(url: str) -> str:
    """Drop trailing ``)`` that close nothing inside the link (``(voir https://x.fr/a)``)."""
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def find_links(text: str, *, include_short: bool = False) -> tuple[Link, ...]:
    """Every link in ``text``, in order. ``include_short`` also returns bare ``name.cctld`` domains."""
    if "." not in text:
        return ()
    return _find_links(text, include_short)


@lru_cache(maxsize=64)
def _find_links(text: str, include_short: bool) -> tuple[Link, ...]:
    found: list[Link] = []
    taken: list[tuple[int, int]] = []
    for m in _PROTO_RE.finditer(text):
        start = m.start()
        if start and _BAD_BEFORE.match(text[start - 1]):
            continue
        host = m.group(2)
        host_end = m.end(2)
        if not re.fullmatch(_IPV4, host):
            cut = _trim_tld(host, text, host_end)
            if cut is None:
                continue
            host = host[: len(host) - (host_end - cut)]
            host_end = cut
            if not all(_label_ok(label) for label in host.split(".")):
                continue
        tail = _TAIL_RE.match(text, host_end)
        url = _balance(text[start:tail.end() if tail else host_end])
        found.append(Link(start, start + len(url), url, host.lower(), True))
        taken.append((start, start + len(url)))
    for m in _BARE_RE.finditer(text):
        start, host_end = m.start(), m.end()
        if any(a <= start < b for a, b in taken):
            continue
        before = text[start - 1] if start else ""
        if before and (_BAD_BEFORE.match(before) or _BAD_BEFORE_BARE.match(before)):
            continue
        cut = _trim_tld(m.group(0), text, host_end)
        if cut is None:
            continue
        host = text[start:cut]
        labels = host.split(".")
        if not host.isascii() or not all(_label_ok(label) for label in labels):
            continue
        tail = _TAIL_RE.match(text, cut)
        url = _balance(text[start:tail.end() if tail else cut])
        has_path = len(url) > len(host) and url[len(host)] in "/?"
        short = len(labels) == 2 and len(labels[1]) == 2 and labels[1].lower() not in _SPECIAL_SHORT_CCTLDS
        if short and not has_path and not include_short:
            continue
        found.append(Link(start, start + len(url), url, host.lower(), False))
    found.sort(key=lambda link: link.start)
    return tuple(found)


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """True if ``host`` is one of ``allowed`` or a subdomain of one (``www.paris.fr`` under ``paris.fr``)."""
    host = host.lower().rstrip(".")
    while True:
        if host in allowed:
            return True
        dot = host.find(".")
        if dot < 0:
            return False
        host = host[dot + 1:]
