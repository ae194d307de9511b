"""Saved replies (modèles de réponse): stored in the database, checked against the charter when saved, filled
with ``{prenom}``, ``{service}``, ``{lien}`` when used (the filled text then goes through compose like any
reply). Directors manage them; community managers use them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import CharterBlocked
from core.models import Agent, InboxItem, Platform
from editorial.engine import CheckContext
from editorial.templates import SAMPLE_VALUES, render_template, validate_template
from services.accounts.permissions import Action, require
from services.editorial import charter as charters


@dataclass(frozen=True, slots=True)
class SavedReply:
    """A template as stored."""

    id: int
    title: str
    body: str
    active: bool


def _saved(row: dict[str, Any]) -> SavedReply:
    return SavedReply(row["id"], row["title"], row["body"], row["active"])


def _check_template(db: Database, body: str, now: datetime) -> None:
    """Refuse a template whose sample rendering the charter blocks (signature rules skipped: added later)."""
    text = render_template(body, SAMPLE_VALUES)
    result = charters.current(db).check(text, CheckContext(platform=Platform.X, now=now))
    blocking = [f for f in result.findings if f.severity == "block" and f.code != "length"]
    if blocking:
        raise CharterBlocked(f"charter blocks the template ({blocking[0].code})",
                             reason="charter_blocks_template", finding=blocking[0].message,
                             findings=tuple(f.to_dict() for f in blocking))


def list_saved(db: Database, agent: Agent) -> list[SavedReply]:
    """Active saved replies, by title."""
    require(agent, Action.SAVED_REPLY_USE)
    return [_saved(r) for r in repo.list_saved_replies(db)]


def create(db: Database, agent: Agent, *, title: str, body: str, now: datetime) -> SavedReply:
    """Add a saved reply (director)."""
    require(agent, Action.SAVED_REPLY_EDIT)
    validate_template(title, body)
    _check_template(db, body, now)
    with write_transaction(db):
        rid = repo.create_saved_reply(db, title=title.strip(), body=body.strip(), created_by=agent.id, now=now)
        audit.record(db, audit.SavedReplyChanged(actor=agent.email, role=str(agent.role), subject=f"saved-reply:{rid}",
                                                 saved_reply_id=rid, action="created", title=title.strip(),
                                                 body=body.strip()), at=now)
    return SavedReply(rid, title.strip(), body.strip(), True)


def update(db: Database, agent: Agent, reply_id: int, *, title: str, body: str, now: datetime,
           active: bool = True) -> SavedReply:
    """Edit (or, with ``active=False``, remove) a saved reply (director)."""
    require(agent, Action.SAVED_REPLY_EDIT)
    validate_template(title, body)
    if active:
        _check_template(db, body, now)
    with write_transaction(db):
        repo.get_saved_reply(db, reply_id)
        repo.update_saved_reply(db, reply_id, title=title.strip(), body=body.strip(), active=active, now=now)
        audit.record(db, audit.SavedReplyChanged(actor=agent.email, role=str(agent.role),
                                                 subject=f"saved-reply:{reply_id}", saved_reply_id=reply_id,
                                                 action="updated" if active else "removed", title=title.strip(),
                                                 body=body.strip()), at=now)
    return SavedReply(reply_id, title.strip(), body.strip(), active)


def values_for(item: InboxItem | None, *, service: str = "", lien: str = "") -> dict[str, str]:
    """Variable values for a mention: ``prenom`` is the first word of the author's display name."""
    name = (item.mention.author.display_name if item else "").strip()
    first = name.split()[0] if name and not name.startswith("@") else ""
    return {"prenom": first, "service": service, "lien": lien}


def fill(db: Database, agent: Agent, reply_id: int, *, item: InboxItem | None, service: str = "",
         lien: str = "") -> str:
    """The saved reply's body with its variables filled for ``item`` (then pass it to replies.compose)."""
    require(agent, Action.SAVED_REPLY_USE)
    row = repo.get_saved_reply(db, reply_id)
    return render_template(row["body"], values_for(item, service=service, lien=lien))
