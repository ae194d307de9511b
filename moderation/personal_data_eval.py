"""A generated test set for core/personal_data.py: French phone formats, e-mails (also obfuscated), postal
addresses, IBANs and NIRs, mixed with look-alikes (dates, amounts, order / SIRET / parcel numbers, invalid IBANs
and NIRs, postcodes, street names without a number, emergency numbers).

:func:`generate_cases` is deterministic for a seed; :func:`evaluate` gives recall and precision (a detection
counts when it overlaps a labelled span of the same kind). ``python -m console eval personal-data --json``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.personal_data import find_personal_data, nir_key

FIRST = ["jean", "marie", "sophie", "karim", "lucas", "camille", "nadia", "thomas", "léa", "mohamed", "chloé", "yves"]
LAST = ["dupont", "martin", "bernard", "petit", "durand", "leroy", "moreau", "fournier", "girard", "benali", "nguyen"]
DOMAINS = ["gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "yahoo.fr", "sfr.fr", "wanadoo.fr"]
STREETS = ["rue", "avenue", "boulevard", "bd", "chemin", "allée", "impasse", "place", "route", "quai", "cours",
           "square", "résidence", "lotissement", "hameau"]
NAMES = ["Victor Hugo", "de la République", "des Lilas", "Jean Jaurès", "du Général de Gaulle", "de l'Église",
         "des Tilleuls", "Pasteur", "de la Gare", "du Moulin", "Émile Zola", "des Écoles", "Saint-Michel",
         "de la Paix", "victor hugo", "des acacias"]
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("33000", "Bordeaux"), ("13005", "Marseille"), ("59000", "Lille"),
          ("31400", "Toulouse"), ("44000", "Nantes"), ("97400", "Saint-Denis")]
INTROS = ["Bonjour, vous pouvez me joindre au {x} pour le dossier.", "Mon numéro : {x}, rappelez-moi svp",
          "j'habite au {x} et la poubelle n'a pas été ramassée", "Contactez-moi : {x}", "voila mon {x} merci",
          "Je vous écris depuis le {x}, les travaux continuent.", "pour le remboursement : {x}",
          "{x} c'est moi, je suis sans réponse depuis 3 semaines !!", "Écrivez-moi sur {x} si besoin.",
          "Mme Durand, {x}, demande un rendez-vous", "ma carte vitale indique {x}"]
LOOKALIKES = [
    "Rendez-vous le {d} à 14h30 en mairie.", "La facture de {amount} a été payée le {d}.",
    "commande n° {order} toujours pas livrée", "Réf. dossier {ref} du {d}", "ticket #{ticket} ouvert",
    "colis {parcel} bloqué", "SIRET {siret} de l'entreprise", "le prix passe à {amount} depuis le {d}",
    "IBAN de l'exemple officiel ? non, c'est {bad_iban}", "numéro invalide {bad_nir} sur le formulaire",
    "Le code postal est {cp} pour {city}.", "La rue {name} est fermée jusqu'au {d}",
    "en cas d'urgence appelez le 15, le 17, le 18 ou le 112", "numéro vert 0 800 123 456 gratuit",
    "2 places de parking en moins, 3 rues plus loin", "score 3-0 hier soir, {amount} de recettes",
    "suivez @mairie_{city_l} et https://www.{city_l}.fr/contact", "budget 2024 : {big} euros",
    "le {d} entre 8h et 12h, salle 0612", "Naissances 2023 : 1 245, décès : 987", "à {km} km du centre",
]


@dataclass(frozen=True, slots=True)
class Case:
    """A generated text and its labelled spans ``(kind, start, end)``."""

    text: str
    spans: tuple[tuple[str, int, int], ...]


def _phone(rng: random.Random) -> str:
    first = rng.choice("123456789")
    pairs = [f"{rng.randint(0, 99):02d}" for _ in range(4)]
    national = "0" + first + "".join(pairs)
    style = rng.randrange(10)
    if style == 0:
        return national
    if style in (1, 2):
        return " ".join(["0" + first, *pairs])
    if style == 3:
        return ".".join(["0" + first, *pairs])
    if style == 4:
        return "-".join(["0" + first, *pairs])
    if style == 5:
        return "+33 " + first + " " + " ".join(pairs)
    if style == 6:
        return "+33" + first + "".join(pairs)
    if style == 7:
        return "+33 (0)" + first + " " + " ".join(pairs)
    if style == 8:
        return "0033 " + first + " " + " ".join(pairs)
    return f"+262 692 {pairs[0]} {pairs[1]} {pairs[2]}"


def _email(rng: random.Random) -> str:
    user = rng.choice(FIRST).replace("é", "e").replace("è", "e") + rng.choice([".", "_", "", "-"]) + rng.choice(LAST)
    if rng.random() < 0.3:
        user += str(rng.randint(1, 99))
    domain = rng.choice(DOMAINS)
    style = rng.randrange(8)
    if style == 0:
        return f"{user} (at) {domain}"
    if style == 1:
        name, tld = domain.rsplit(".", 1)
        return f"{user} arobase {name} point {tld}"
    if style == 2:
        return f"{user}[at]{domain}"
    return f"{user}@{domain}"


def _address(rng: random.Random) -> str:
    number = str(rng.randint(1, 250)) + rng.choice(["", "", "", " bis", " ter"])
    text = f"{number}{rng.choice(['', ','])} {rng.choice(STREETS)} {rng.choice(NAMES)}"
    if rng.random() < 0.5:
        cp, city = rng.choice(CITIES)
        text += f", {cp} {city}"
    return text


def _iban_check(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def _iban(rng: random.Random, valid: bool = True) -> str:
    country = rng.choice(["FR", "FR", "FR", "DE", "BE"])
    if country == "FR":
        bban = "".join(rng.choice("0123456789") for _ in range(10)) + "".join(
            rng.choice("0123456789ABCDEF") for _ in range(11)) + f"{rng.randint(0, 99):02d}"
    elif country == "DE":
        bban = "".join(rng.choice("0123456789") for _ in range(18))
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(12))
    check = _iban_check(country, bban)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 50)) % 100:02d}"
    iban = country + check + bban
    if rng.random() < 0.7:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def _nir(rng: random.Random, valid: bool = True) -> str:
    dept = rng.choice(["75", "13", "2A", "2B", "69", "33", "59", "97"])
    parts = [rng.choice("12"), f"{rng.randint(0, 99):02d}", f"{rng.randint(1, 12):02d}", dept,
             f"{rng.randint(1, 999):03d}", f"{rng.randint(1, 999):03d}"]
    key = nir_key("".join(parts))
    if not valid:
        key = (key + rng.randint(1, 40)) % 97 + 1
    parts.append(f"{key:02d}")
    sep = rng.choice([" ", "", ".", " "])
    return sep.join(parts)


_MAKERS = {"phone": _phone, "email": _email, "address": _address, "iban": _iban, "nir": _nir}


def _lookalike(rng: random.Random) -> str:
    cp, city = rng.choice(CITIES)
    values = {
        "d": rng.choice([f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{rng.randint(20, 27)}",
                         f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(20, 27)}",
                         f"20{rng.randint(20, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]),
        "amount": rng.choice([f"{rng.randint(1, 999)} {rng.randint(100, 999)},{rng.randint(0, 99):02d} €",
                              f"{rng.randint(1, 99)},{rng.randint(0, 99):02d} €",
                              f"{rng.randint(1, 9)}.{rng.randint(100, 999)} EUR"]),
        "order": str(rng.randint(10**8, 10**10 - 1)), "ref": f"{rng.randint(2020, 2027)}/{rng.randint(10000, 99999)}",
        "ticket": str(rng.randint(100000, 999999)), "parcel": f"6A{rng.randint(10**10, 10**11 - 1)}",
        "siret": f"{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(10000, 99999)}",
        "bad_iban": _iban(rng, valid=False), "bad_nir": _nir(rng, valid=False), "cp": cp, "city": city,
        "city_l": city.lower().replace(" ", "").replace("-", ""), "name": rng.choice(NAMES),
        "big": f"{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}", "km": str(rng.randint(2, 40)),
    }
    return rng.choice(LOOKALIKES).format(**values)


def generate_cases(n: int = 600, seed: int = 4) -> list[Case]:
    """``n`` texts: about two thirds hold one or two pieces of personal data, all hold a look-alike or two."""
    rng = random.Random(seed)
    kinds = list(_MAKERS)
    cases = []
    for i in range(n):
        text = ""
        spans: list[tuple[str, int, int]] = []
        pieces = [("lookalike", _lookalike(rng))]
        if i % 3:
            for kind in rng.sample(kinds, rng.choice([1, 1, 2])):
                pieces.append((kind, _MAKERS[kind](rng)))
        rng.shuffle(pieces)
        for kind, value in pieces:
            if text:
                text += " " + rng.choice(["", "Par ailleurs,", "Et", "PS :", "—"]) + " "
                text = text.replace("  ", " ")
            if kind == "lookalike":
                text += value
                continue
            template = rng.choice(INTROS)
            if kind == "nir" and rng.random() < 0.5:
                template = "numéro de sécu {x}"
            head, tail = template.split("{x}")
            start = len(text) + len(head)
            text += head + value + tail
            spans.append((kind, start, start + len(value)))
        cases.append(Case(text=text, spans=tuple(spans)))
    return cases


def evaluate(cases: Sequence[Case]) -> dict[str, Any]:
    """Recall and precision overall and per kind; ``errors`` lists a few misses and false alarms."""
    tp_gold = fp = gold_total = 0
    per_kind: dict[str, dict[str, int]] = {}
    errors: list[dict[str, Any]] = []
    for case in cases:
        found = find_personal_data(case.text)
        for kind, start, end in case.spans:
            gold_total += 1
            stats = per_kind.setdefault(kind, {"gold": 0, "found": 0, "predicted": 0, "correct": 0})
            stats["gold"] += 1
            if any(m.kind == kind and m.start < end and m.end > start for m in found):
                tp_gold += 1
                stats["found"] += 1
            elif len(errors) < 20:
                errors.append({"miss": kind, "value": case.text[start:end], "text": case.text})
        for m in found:
            stats = per_kind.setdefault(m.kind, {"gold": 0, "found": 0, "predicted": 0, "correct": 0})
            stats["predicted"] += 1
            if any(kind == m.kind and start < m.end and end > m.start for kind, start, end in case.spans):
                stats["correct"] += 1
            else:
                fp += 1
                if len(errors) < 20:
                    errors.append({"false_alarm": m.kind, "value": m.value, "text": case.text})
    predicted = sum(s["predicted"] for s in per_kind.values())
    return {
        "n_texts": len(cases), "n_spans": gold_total,
        "recall": round(tp_gold / gold_total, 4) if gold_total else 1.0,
        "precision": round((predicted - fp) / predicted, 4) if predicted else 1.0,
        "per_kind": {k: {"recall": round(s["found"] / s["gold"], 4) if s["gold"] else None,
                         "precision": round(s["correct"] / s["predicted"], 4) if s["predicted"] else None,
                         "n": s["gold"]} for k, s in sorted(per_kind.items())},
        "errors": errors,
    }
