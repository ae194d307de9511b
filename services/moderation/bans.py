"""Authors banned through Parvis (read side) and lifting a ban; banning itself is ``moderation_actions.restrict``.

A ban is kept in ``author_bans`` while it lasts, with the message that led to it and its legal ground. Lifting it
goes through the outbox like every act on the platform (decision 0051): the intent is committed, then
``unban(author)`` is called on the connector of that message, then the row is forgotten and ``author-unbanned``
recorded under the act's token; a platform refusal leaves the ban in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core import repo
from core.config import Settings
from core.errors import NotFoundError, ParvisError, ValidationError
from core.models import Agent, InboxItem
from core.repo import author_bans as author_bans_repo
from services.accounts.permissions import Action, require
from services.connections import assembly
from services.moderation.actions import MAX_NOTE_LEN, Outcome, act
from services.moderation.acts import ActRequest, can_do
from services.outbox.engine import Hook


@dataclass(frozen=True, slots=True, kw_only=True)
class BannedAuthor:
    """A current ban, the message that led to it (None once purged) and whether Parvis can lift it."""

    ban: author_bans_repo.Ban
    item: InboxItem | None
    can_unban: bool


def is_banned(db: Database, platform: str, author_platform_id: str) -> bool:
    """Whether the author is currently banned through Parvis."""
    return author_bans_repo.ban_of(db, platform, author_platform_id) is not None


def banned_authors(db: Database, settings: Settings, *, viewer: Agent) -> list[BannedAuthor]:
    """Every current ban, newest first, with the message and whether its connector can lift the ban."""
    require(viewer, Action.INBOX_READ)
    out = []
    for ban in author_bans_repo.bans(db):
        try:
            item: InboxItem | None = repo.get_item(db, ban.mention_uid)
        except NotFoundError:
            item = None
        out.append(BannedAuthor(ban=ban, item=item, can_unban=item is not None and _unbannable(settings, item)))
    return out


def _unbannable(settings: Settings, item: InboxItem) -> bool:
    try:
        return can_do(assembly.connector_for(settings, item.mention), "unban")
    except ParvisError:  # a connector that is not configured simply offers no button
        return False


def unban(db: Database, settings: Settings, platform: str, author_platform_id: str, *, actor: Agent, now: datetime,
          note: str = "", hook: Hook | None = None) -> Outcome:
    """Lift a ban on its platform, then forget it (audited with the ground of the ban)."""
    require(actor, Action.MODERATE)
    body = (note or "").strip()
    if len(body) > MAX_NOTE_LEN:
        raise ValidationError(f"a note has at most {MAX_NOTE_LEN} characters", reason="note_too_long",
                              max=MAX_NOTE_LEN)
    ban = author_bans_repo.ban_of(db, platform, author_platform_id)
    if ban is None:
        raise ValidationError(f"{author_platform_id} is not banned", reason="not_banned", author=author_platform_id)
    item = repo.get_item(db, ban.mention_uid)  # NotFoundError once purged: the connector is unknown
    connector = assembly.connector_for(settings, item.mention)
    request = ActRequest(action="unban", mention_uid=ban.mention_uid, ground=ban.ground, note=body)
    # the banned author wrote that message; a refusal raises and the ban is kept
    return act(db, connector, item.mention, request, actor=actor, now=now, hook=hook)
