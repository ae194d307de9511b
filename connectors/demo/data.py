"""The demo city's data: French text templates and its cast, loaded once from the TOML files beside this module."""

from __future__ import annotations

import math
import random
import string
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.models import Author

HERE = Path(__file__).resolve().parent
RESIDENT_POOL = 600  # occasional residents drawn per seed


@dataclass(frozen=True, slots=True)
class Template:
    """One text with the placeholders it uses, parsed once."""

    text: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    """A topic of the demo stream: its weight among new conversations and its texts."""

    name: str
    weight: float
    roots: tuple[Template, ...]
    replies: tuple[Template, ...]
    reactions: tuple[Template, ...]
    seasonal: tuple[tuple[frozenset[int], tuple[Template, ...]], ...]
    before: tuple[Template, ...]  # storm only: comments under the alert, before the wind rises
    emoji: tuple[str, ...]
    hashtags: tuple[str, ...]
    media: float


@dataclass(frozen=True, slots=True)
class Persona:
    """Someone who writes to the city, with an X account and/or a Facebook profile."""

    key: str
    name: str
    style: str  # polite | neutral | angry | sms | elderly | cheerful | spam
    role: str  # resident | opposition | press | spam
    likes: tuple[str, ...]
    x: Author | None
    fb: Author | None

    def on(self, platform: str) -> Author | None:
        """This persona's author record on ``platform`` ("x" or "facebook")."""
        return self.x if platform == "x" else self.fb


@dataclass(frozen=True, slots=True)
class Texts:
    """Everything textual about the demo city."""

    categories: dict[str, Category]
    discussion: tuple[Template, ...]
    city_posts: dict[str, tuple[Template, ...]]
    followups_thanks: tuple[Template, ...]
    followups_unhappy: tuple[Template, ...]
    city: dict[str, Any]
    places: dict[str, Any]
    names: dict[str, Any]


def compile_template(text: str) -> Template:
    """Parse the ``{placeholders}`` of ``text`` once."""
    fields = tuple(f for _, f, _, _ in string.Formatter().parse(text) if f)
    return Template(text=text, fields=fields)


def _templates(items: list[str] | None) -> tuple[Template, ...]:
    return tuple(compile_template(t) for t in items or ())


@cache
def texts() -> Texts:
    """The parsed text templates and places (loaded once per process)."""
    with (HERE / "texts_fr.toml").open("rb") as fh:
        t = tomllib.load(fh)
    with (HERE / "people_fr.toml").open("rb") as fh:
        p = tomllib.load(fh)
    cats = {}
    for name, c in t["categories"].items():
        seasonal = tuple((frozenset(s["months"]), _templates(s["roots"])) for s in c.get("season", ()))
        cats[name] = Category(name=name, weight=float(c["weight"]), roots=_templates(c["roots"]),
                              replies=_templates(c.get("replies")), reactions=_templates(c.get("reactions")),
                              seasonal=seasonal, before=_templates(c.get("before")), emoji=tuple(c.get("emoji", ())),
                              hashtags=tuple(c.get("hashtags", ())), media=float(c.get("media", 0.0)))
    return Texts(categories=cats, discussion=_templates(t["discussion"]["replies"]),
                 city_posts={k: _templates(v) for k, v in t["city_posts"].items()},
                 followups_thanks=_templates(t["followups"]["thanks"]),
                 followups_unhappy=_templates(t["followups"]["unhappy"]),
                 city=p["city"], places=p["places"], names=p["names"])


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (for handles and e-mail addresses)."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm.lower() if ch.isascii() and ch.isalnum())


@cache
def cast() -> tuple[Persona, ...]:
    """The recurring characters (same for every seed)."""
    with (HERE / "people_fr.toml").open("rb") as fh:
        p = tomllib.load(fh)
    out = []
    for i, c in enumerate(p["cast"]):
        x = None
        if c.get("x"):
            x = Author(platform_id=f"demo-xu-{2000 + i}", handle=c["x"], display_name=c.get("display_x", c["name"]),
                       followers=int(c["followers"]))
        fb = Author(platform_id=f"demo-fbu-{2000 + i}", handle=c["name"], display_name=c["name"]) \
            if c.get("facebook") else None
        out.append(Persona(key=c["key"], name=c["name"], style=c["style"], role=c.get("role", "resident"),
                           likes=tuple(c.get("likes", ())), x=x, fb=fb))
    return tuple(out)


def persona(key: str) -> Persona:
    """A recurring character by key."""
    for p in cast():
        if p.key == key:
            return p
    raise KeyError(key)


_STYLES = ("polite", "neutral", "sms", "angry", "cheerful", "elderly")
_STYLE_WEIGHTS = (0.28, 0.32, 0.17, 0.1, 0.08, 0.05)


@cache
def residents(seed: int) -> tuple[Persona, ...]:
    """The occasional residents of a seed: invented names, handles, styles and follower counts."""
    names = texts().names
    rng = random.Random(f"parvis-demo-residents:{seed}")
    out = []
    for i in range(RESIDENT_POOL):
        first, last = rng.choice(names["first"]), rng.choice(names["last"])
        f, la = ascii_slug(first), ascii_slug(last)
        handle = rng.choice((f"{f}{la}", f"{f}_{la[0]}", f"{f}{rng.randint(60, 99)}", f"{f}_{la}{rng.randint(1, 9)}",
                             f"{la}{f[:3]}", f"x{f}{la[:2]}x"))
        display = rng.choice((f"{first} {last}", f"{first} {last[0]}.", first, f"{first} {last}"))
        display += rng.choice(names["decorations"])
        followers = int(math.exp(rng.gauss(4.2, 1.3)))
        style = rng.choices(_STYLES, _STYLE_WEIGHTS)[0]
        x = Author(platform_id=f"demo-xu-{10000 + i}", handle=handle[:15], display_name=display, followers=followers)
        fb = Author(platform_id=f"demo-fbu-{10000 + i}", handle=f"{first} {last}", display_name=f"{first} {last}")
        out.append(Persona(key=f"resident-{i}", name=f"{first} {last}", style=style, role="resident", likes=(),
                           x=x, fb=fb))
    return tuple(out)


def city_authors() -> tuple[Author, Author]:
    """The city's own X account and Facebook Page."""
    c = texts().city
    return (Author(platform_id=c["x_id"], handle=c["x_handle"], display_name=c["page_name"], followers=12840),
            Author(platform_id=c["fb_page_id"], handle=c["page_name"], display_name=c["page_name"]))
