"""Turn a template into a resident's message: fill the placeholders, then write it the way that person writes
(missing accents, SMS abbreviations, typos, shouting, emoji, hashtags)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.demo.data import Category, Template, ascii_slug, texts

_ACCENTS = str.maketrans("àâäéèêëîïôöùûüçÀÂÄÉÈÊËÎÏÔÖÙÛÜÇ", "aaaeeeeiioouuucAAAEEEEIIOOUUUC")
_SMS = (("pourquoi", "pk"), ("Pourquoi", "Pk"), ("beaucoup", "bcp"), ("toujours", "tjrs"), ("quelqu'un", "qqn"),
        ("aujourd'hui", "ajd"), ("c'est", "c"), ("C'est", "C"), ("vraiment", "vrmt"), ("s'il vous plaît", "svp"),
        ("rendez-vous", "rdv"), ("quand", "qd"), ("il y a", "ya"), ("Il y a", "Ya"), ("je ne peux pas", "j'peux pas"),
        ("depuis", "dpuis"), ("Bonjour", "Bjr"), ("merci", "mrc"), ("tout le monde", "tlm"))
_CODE = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Scene:
    """What the placeholders may refer to at this moment (the storm's name, the month)."""

    month: int
    storm: str


def _rue(rng: random.Random, scene: Scene) -> str:
    return rng.choice(texts().places["rues"])


def _tel(rng: random.Random, scene: Scene) -> str:
    prefix = rng.choice(texts().places["tel_prefixes"])
    tel = f"{prefix} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
    return tel.replace(" ", "") if rng.random() < 0.3 and not tel.startswith("+") else tel


def _nom(rng: random.Random, scene: Scene) -> str:
    n = texts().names
    return f"{rng.choice(n['first'])} {rng.choice(n['last'])}"


def _email(rng: random.Random, scene: Scene) -> str:
    first, last = _nom(rng, scene).split(" ", 1)
    sep = rng.choice((".", "", "_"))
    domain = rng.choice(texts().places["mail_domains"])
    return f"{ascii_slug(first)}{sep}{ascii_slug(last)}{rng.randint(1, 99)}@{domain}"


def _url_spam(rng: random.Random, scene: Scene) -> str:
    code = "".join(rng.choice(_CODE) for _ in range(7))
    return rng.choice(texts().places["spam_urls"]).format(code=code)


_FILLERS: dict[str, Callable[[random.Random, Scene], str]] = {
    "rue": _rue,
    "rue2": _rue,
    "quartier": lambda rng, s: rng.choice(texts().places["quartiers"]),
    "ecole": lambda rng, s: rng.choice(texts().places["ecoles"]),
    "n": lambda rng, s: str(rng.randint(2, 9)),
    "nn": lambda rng, s: str(rng.randint(1, 140)),
    "semaines": lambda rng, s: str(rng.randint(2, 8)),
    "mois": lambda rng, s: str(rng.randint(2, 11)),
    "jour": lambda rng, s: rng.choice(texts().places["jours"]),
    "mois_nom": lambda rng, s: rng.choice(texts().places["mois"]),
    "maire": lambda rng, s: rng.choice(texts().city["mayor"]),
    "tel": _tel,
    "adresse": lambda rng, s: f"{rng.randint(1, 120)} {_rue(rng, s)}",
    "email": _email,
    "nom": _nom,
    "url_spam": _url_spam,
    "storm": lambda rng, s: s.storm,
}


def fill(tpl: Template, rng: random.Random, scene: Scene) -> str:
    """The template's text with its placeholders filled."""
    if not tpl.fields:
        return tpl.text
    values: dict[str, Any] = {f: _FILLERS[f](rng, scene) for f in tpl.fields}
    if "rue2" in values and values["rue2"] == values.get("rue"):
        values["rue2"] = "rue du Stade" if values["rue"] != "rue du Stade" else "rue Pasteur"
    return tpl.text.format(**values)


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    k = rng.randint(1, len(w) - 3)
    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2:] if rng.random() < 0.7 else w[:k] + w[k] + w[k:]
    return " ".join(words)


def _sms(rng: random.Random, text: str) -> str:
    for long, short in _SMS:
        if long in text and rng.random() < 0.7:
            text = text.replace(long, short)
    text = text.translate(_ACCENTS) if rng.random() < 0.75 else text
    if text[:1].isupper() and rng.random() < 0.7:
        text = text[0].lower() + text[1:]
    return text.rstrip(".")


def style(text: str, rng: random.Random, how: str, cat: Category, platform: str, scene: Scene) -> str:
    """Write ``text`` the way a ``how`` author would on ``platform``."""
    emoji = cat.emoji
    if how == "sms":
        text = _sms(rng, text)
        if rng.random() < 0.3:
            text = _typo(rng, text)
        if emoji and rng.random() < 0.5:
            text += " " + rng.choice(emoji) * rng.randint(1, 3)
    elif how == "angry":
        if rng.random() < 0.15:
            text = text.upper()
        if text.endswith((".", "?", "!")) and rng.random() < 0.5:
            text = text.rstrip(".?!") + rng.choice(("!!!", " !!", "?!", "!!!!"))
        if rng.random() < 0.2:
            text = _typo(rng, text)
        if emoji and rng.random() < 0.4:
            text += " " + rng.choice(emoji) * rng.randint(1, 2)
    elif how == "elderly":
        text = text.replace(". ", "... ").replace("?", " ?").replace("!", " !").replace("  ", " ")
        if rng.random() < 0.4:
            text += rng.choice((" Cordialement.", " Merci de votre réponse.", " Bonne journée."))
    elif how == "cheerful":
        if emoji and rng.random() < 0.8:
            text += " " + "".join(rng.choice(emoji) for _ in range(rng.randint(1, 3)))
    elif how == "polite" and cat.name not in ("insulte_maire", "menace"):
        if rng.random() < 0.3 and text[:1].isalpha() and not text.startswith(("Bonjour", "Bonsoir")):
            text = "Bonjour, " + (text[0].lower() + text[1:] if text[1:2].islower() else text)
        if rng.random() < 0.25 and "merci" not in text.lower():
            text += (". Merci." if text[-1:].isalnum() else " Merci.")
    elif how == "neutral":
        if rng.random() < 0.15:
            text = text.translate(_ACCENTS)
        if rng.random() < 0.12:
            text = _typo(rng, text)
        if emoji and rng.random() < 0.3:
            text += " " + rng.choice(emoji)
    if how != "spam":
        p_tag = 0.22 if platform == "x" else 0.03
        if rng.random() < p_tag:
            text += " #Valmont"
        if cat.hashtags and rng.random() < p_tag * 0.6:
            tag = cat.hashtags[rng.randrange(len(cat.hashtags))].replace("{storm}", ascii_slug(scene.storm).title())
            if tag not in text:
                text += " " + tag
    elif platform == "x" and cat.hashtags and rng.random() < 0.5:
        text += " " + " ".join(cat.hashtags)  # spam bots stuff hashtags
    return text
