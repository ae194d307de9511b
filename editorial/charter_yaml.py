"""Charter <-> plain data <-> YAML, with validation that names the faulty field.

The YAML layout is documented in docs/editorial.md; ``editorial/data/default_charter.yaml`` is a complete
example. Unknown keys are refused (a typo must not silently disable a rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.errors import ValidationError
from core.models import Platform
from editorial.charter import RULE_CODES, Charter, Election, ReserveSettings, Severity, Term

DEFAULT_CHARTER_FILE = Path(__file__).parent / "data" / "default_charter.yaml"


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates as text, so a bad date is reported with its field name."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_TOP_KEYS = {"name", "version", "limits", "rules", "terms", "allowed_domains", "allowed_contacts", "hashtags",
             "capitals", "emoji", "approval", "reserve"}


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(reason="charter_texts_expected", field=path)
    return tuple(v.strip() for v in value if v.strip())


def _number(value: Any, path: str, *, lo: float, hi: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ValidationError(reason="charter_integer_expected" if integer else "charter_number_expected", field=path)
    if not lo <= value <= hi:
        raise ValidationError(reason="charter_out_of_range", field=path, lo=f"{lo:g}", hi=f"{hi:g}")
    return value


def _mapping(value: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(reason="charter_section_expected", field=path)
    unknown = set(value) - allowed
    if unknown:
        raise ValidationError(reason="charter_key_unknown", field=f"{path}.{sorted(unknown)[0]}" if path
                              else sorted(unknown)[0], allowed=sorted(allowed))
    return value


def _terms(value: Any, path: str) -> tuple[Term, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(reason="charter_list_expected", field=path)
    out = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(item, str):
            item = {"term": item}
        item = _mapping(item, where, {"term", "replacement", "reason", "gender"})
        term = item.get("term")
        if not isinstance(term, str) or not term.strip():
            raise ValidationError(reason="charter_term_empty", field=f"{where}.term")
        if term.strip().endswith("*") and len(term.strip().rstrip("*")) < 3:
            raise ValidationError(reason="charter_prefix_too_short", field=f"{where}.term")
        gender = str(item.get("gender") or "").strip().lower()[:1]  # "m"/"masculin", "f"/"féminin"
        if gender not in ("", "m", "f"):
            raise ValidationError(reason="charter_gender_expected", field=f"{where}.gender")
        out.append(Term(term=term.strip(), replacement=str(item.get("replacement") or "").strip(),
                        reason=str(item.get("reason") or "").strip(), gender=gender))
    return tuple(out)


def _date(value: Any, path: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise ValidationError(reason="charter_date_expected", field=path) from err


def _reserve(value: Any) -> ReserveSettings:
    data = _mapping(value, "reserve", {"elections", "bilan_terms", "candidates", "campaign_themes",
                                       "volume_tolerance"})
    elections = []
    for i, item in enumerate(data.get("elections") or []):
        where = f"reserve.elections[{i}]"
        item = _mapping(item, where, {"name", "rounds"})
        rounds = item.get("rounds")
        if not isinstance(rounds, list) or not rounds:
            raise ValidationError(reason="charter_rounds_expected", field=f"{where}.rounds")
        parsed = tuple(sorted(_date(r, f"{where}.rounds[{k}]") for k, r in enumerate(rounds)))
        elections.append(Election(name=str(item.get("name") or "Scrutin"), rounds=parsed))
    return ReserveSettings(
        elections=tuple(elections),
        bilan_terms=_strings(data.get("bilan_terms"), "reserve.bilan_terms"),
        candidates=_strings(data.get("candidates"), "reserve.candidates"),
        campaign_themes=_strings(data.get("campaign_themes"), "reserve.campaign_themes"),
        volume_tolerance=float(_number(data.get("volume_tolerance", 0.3), "reserve.volume_tolerance", lo=0, hi=10)))


def charter_from_dict(data: Any, *, version: int = 0) -> Charter:
    """Build and validate a Charter from plain data (parsed YAML); ValidationError names the faulty field."""
    data = _mapping(data, "", _TOP_KEYS)
    limits = {}
    for key, value in _mapping(data.get("limits"), "limits", {str(p) for p in Platform}).items():
        limits[key] = int(_number(value, f"limits.{key}", lo=1, hi=100_000, integer=True))
    severities = {}
    for key, value in _mapping(data.get("rules"), "rules", set(RULE_CODES)).items():
        try:
            severities[key] = Severity(str(value))
        except ValueError as err:
            raise ValidationError(reason="charter_severity_expected", field=f"rules.{key}") from err
    terms = _mapping(data.get("terms"), "terms", {"banned", "discouraged"})
    caps = _mapping(data.get("capitals"), "capitals", {"max_ratio", "min_letters", "acronyms"})
    emoji = _mapping(data.get("emoji"), "emoji", {"max"})
    approval = _mapping(data.get("approval"), "approval", {"risk_threshold"})
    domains = tuple(d.lower().removeprefix("www.") for d in _strings(data.get("allowed_domains"), "allowed_domains"))
    return Charter(
        name=str(data.get("name") or "Charte éditoriale"), version=version, limits=limits, severities=severities,
        banned=_terms(terms.get("banned"), "terms.banned"),
        discouraged=_terms(terms.get("discouraged"), "terms.discouraged"),
        allowed_domains=domains,
        allowed_contacts=_strings(data.get("allowed_contacts"), "allowed_contacts"),
        hashtags=tuple(h.lstrip("#") for h in _strings(data.get("hashtags"), "hashtags")),
        acronyms=_strings(caps.get("acronyms"), "capitals.acronyms"),
        caps_max_ratio=float(_number(caps.get("max_ratio", 0.5), "capitals.max_ratio", lo=0, hi=1)),
        caps_min_letters=int(_number(caps.get("min_letters", 12), "capitals.min_letters", lo=1, hi=10_000,
                                     integer=True)),
        max_emoji=int(_number(emoji.get("max", 3), "emoji.max", lo=0, hi=1000, integer=True)),
        risk_threshold=float(_number(approval.get("risk_threshold", 0.7), "approval.risk_threshold", lo=0, hi=1)),
        reserve=_reserve(data.get("reserve")))


def _term_out(t: Term) -> dict[str, str]:
    out = {"term": t.term}
    if t.replacement:
        out["replacement"] = t.replacement
    if t.reason:
        out["reason"] = t.reason
    if t.gender:
        out["gender"] = t.gender
    return out


def charter_to_dict(charter: Charter) -> dict[str, Any]:
    """Plain data for a Charter (round-trips through :func:`charter_from_dict`)."""
    r = charter.reserve
    return {
        "name": charter.name,
        "version": charter.version,
        "limits": dict(charter.limits),
        "rules": {k: str(v) for k, v in charter.severities.items()},
        "terms": {"banned": [_term_out(t) for t in charter.banned],
                  "discouraged": [_term_out(t) for t in charter.discouraged]},
        "allowed_domains": list(charter.allowed_domains),
        "allowed_contacts": list(charter.allowed_contacts),
        "hashtags": list(charter.hashtags),
        "capitals": {"max_ratio": charter.caps_max_ratio, "min_letters": charter.caps_min_letters,
                     "acronyms": list(charter.acronyms)},
        "emoji": {"max": charter.max_emoji},
        "approval": {"risk_threshold": charter.risk_threshold},
        "reserve": {"elections": [{"name": e.name, "rounds": [d.isoformat() for d in e.rounds]}
                                  for e in r.elections],
                    "bilan_terms": list(r.bilan_terms), "candidates": list(r.candidates),
                    "campaign_themes": list(r.campaign_themes), "volume_tolerance": r.volume_tolerance},
    }


def load_yaml(text: str, *, version: int = 0) -> Charter:
    """Parse and validate a charter written in YAML."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as err:
        raise ValidationError(f"charter YAML unreadable: {err}", reason="charter_yaml_unreadable",
                              error=str(err).splitlines()[0] if str(err) else "") from err
    return charter_from_dict(data if data is not None else {}, version=version)


def dump_yaml(charter: Charter) -> str:
    """The charter as YAML (UTF-8 text, keys in a readable order)."""
    header = f"# {charter.name} — version {charter.version}\n"
    return header + yaml.safe_dump(charter_to_dict(charter), allow_unicode=True, sort_keys=False, width=110)


def default_charter() -> Charter:
    """The built-in charter used until the director saves one (version 0)."""
    return load_yaml(DEFAULT_CHARTER_FILE.read_text(encoding="utf-8"), version=0)
