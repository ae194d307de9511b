"""The charter in force: load (compiled, cached per version), save a new version, YAML export/import.

Versions are append-only rows; every save is audited (``charter-changed``) in the same transaction. Until the
director saves one, the built-in default (version 0, editorial/data/default_charter.yaml) applies.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import datetime, time, timedelta
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.clock import PARIS
from core.db import write_transaction
from core.models import Agent, Platform
from editorial.charter import Charter
from editorial.charter_yaml import charter_from_dict, charter_to_dict, default_charter, dump_yaml, load_yaml
from editorial.engine import CharterResult, CheckContext, CompiledCharter
from editorial.reserve import VolumeCheck, same_period_last_year, volume_check
from editorial.signatures import sign, signature_for
from services.accounts.permissions import Action, require
from services.accounts.users import signatures_of_others

_CACHE: dict[tuple[int, str], CompiledCharter] = {}
_CACHE_MAX = 8


def _compiled(charter: Charter, key: tuple[int, str]) -> CompiledCharter:
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        found = _CACHE[key] = CompiledCharter(charter)
    return found


def current(db: Database) -> CompiledCharter:
    """The charter in force, precompiled (cached per version and content hash)."""
    row = repo.latest_charter(db)
    if row is None:
        key0 = (0, "default")
        if key0 not in _CACHE:  # parsing the built-in YAML costs ~40 ms: do it once per process
            return _compiled(default_charter(), key0)
        return _CACHE[key0]
    key = (row["version"], row["sha256"])
    if key in _CACHE:
        return _CACHE[key]
    return _compiled(charter_from_dict(row["data"], version=row["version"]), key)


def _digest(data: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def save(db: Database, actor: Agent, charter: Charter, *, now: datetime, comment: str = "",
         source: str = "ui") -> Charter:
    """Store ``charter`` as the next version (director only); returns it with its version number."""
    require(actor, Action.CHARTER_EDIT)
    return _store(db, actor.email, str(actor.role), charter, now=now, comment=comment, source=source)


def _store(db: Database, actor: str, role: str, charter: Charter, *, now: datetime, comment: str,
           source: str) -> Charter:
    data = charter_to_dict(charter)
    data.pop("version", None)
    digest = _digest(data)
    with write_transaction(db):
        saved = charter_from_dict(data, version=_next_version(db))
        version = repo.insert_charter(db, name=saved.name, data=data, yaml_text=dump_yaml(saved), sha256=digest,
                                      comment=comment, created_by=actor, now=now)
        audit.record(db, audit.CharterChanged(actor=actor, role=role, subject=f"charter:{version}", version=version,
                                              sha256=digest, source=source, comment=comment), at=now)
    return saved


def _next_version(db: Database) -> int:
    row = repo.latest_charter(db)
    return (row["version"] if row else 0) + 1


def export_yaml(db: Database, actor: Agent | None = None, *, version: int | None = None) -> str:
    """The charter in force (or ``version``) as YAML; anyone who can read the charter may export it."""
    if actor is not None:
        require(actor, Action.CHARTER_READ)
    if version is not None:
        row = repo.get_charter(db, version)
        return str(row["yaml"])
    return dump_yaml(current(db).charter)


def import_yaml(db: Database, actor: Agent | None, text: str, *, now: datetime, comment: str = "") -> Charter:
    """Validate ``text`` and save it as the next version. ``actor=None`` is the command line (shell access)."""
    charter = load_yaml(text)
    if actor is None:
        return _store(db, audit.SYSTEM_CLI, "", charter, now=now, comment=comment or "import YAML", source="cli")
    require(actor, Action.CHARTER_EDIT)
    return _store(db, actor.email, str(actor.role), charter, now=now, comment=comment or "import YAML",
                  source="import")


def reserve_volume(db: Database, *, now: datetime) -> VolumeCheck | None:
    """During the période de réserve: replies sent since the window opened vs the same dates a year earlier."""
    cc = current(db)
    status = cc.reserve_at(now)
    if not status.active or status.window_start is None:
        return None
    start = datetime.combine(status.window_start, time(0, 0), tzinfo=PARIS)
    today = now.astimezone(PARIS).date()
    prev_start_d, prev_end_d = same_period_last_year(status.window_start, today)
    prev_start = datetime.combine(prev_start_d, time(0, 0), tzinfo=PARIS)
    prev_end = datetime.combine(prev_end_d, time(0, 0), tzinfo=PARIS) + (now - datetime.combine(
        today, time(0, 0), tzinfo=PARIS))
    return volume_check(repo.count_sent_between(db, start, now + timedelta(microseconds=1)),
                        repo.count_sent_between(db, prev_start, prev_end),
                        tolerance=cc.charter.reserve.volume_tolerance)


def history(db: Database, actor: Agent, *, limit: int = 100) -> list[dict[str, Any]]:
    """Saved charter versions, newest first, then the built-in default (version 0); anyone who reads the charter."""
    require(actor, Action.CHARTER_READ)
    return [*repo.list_charters(db, limit=limit),
            {"version": 0, "name": _default().name, "sha256": "", "comment": "charte par défaut intégrée",
             "created_by": "", "created_at": None}]


def _default() -> Charter:
    """The built-in charter (parsed once per process, shared with :func:`current`)."""
    key0 = (0, "default")
    return (_CACHE[key0] if key0 in _CACHE else _compiled(default_charter(), key0)).charter


def version_yaml(db: Database, actor: Agent, version: int) -> str:
    """The YAML of one version (0: the built-in default), for the history's comparison and download."""
    require(actor, Action.CHARTER_READ)
    return dump_yaml(_default()) if version == 0 else export_yaml(db, actor, version=version)


def try_text(db: Database, actor: Agent, text: str, *, platform: Platform, now: datetime,
             signed: bool = True) -> tuple[str, CharterResult]:
    """Check ``text`` as ``actor`` would send it (signed unless ``signed=False``); the charter page's test box."""
    require(actor, Action.CHARTER_READ)
    if signed:
        signature = signature_for(actor)
        final = sign(text, signature)
        ctx = CheckContext(platform=platform, now=now, signature=signature,
                           other_signatures=signatures_of_others(db, actor))
    else:
        final = unicodedata.normalize("NFC", text)
        ctx = CheckContext(platform=platform, now=now)
    return final, current(db).check(final, ctx)
