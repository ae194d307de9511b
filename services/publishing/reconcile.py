"""Looking on the platform for posts: the optional connector lookups, and natively handed-off posts verified after
their time. Orphaned claims and ambiguous failures are looked up by the engine
(:meth:`services.outbox.engine.Engine.reconcile`, :meth:`~services.outbox.engine.Engine.check_first`)
through :class:`services.publishing.posts.PostKind`.

Connectors may offer two optional methods (duck-typed, see :class:`FindsPublished`):
- ``find_published(text, since) -> Published | None``: our post with exactly this text, visible on the account's
  timeline at or after ``since``; None when it is certainly not there; raises a ConnectorError when it cannot
  tell (the demo connector implements it; X and Facebook: docs/publishing.md);
- ``published_status(platform_id) -> Published | None``: a natively scheduled post, once it is published.
A connector without them cannot be checked automatically: an orphaned claim or an ambiguous failure on it
goes to "à vérifier" for a person.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from connectors.base import Connector
from core.db import write_transaction
from core.models import Published, TargetState
from core.repo import posts as posts_repo
from services.outbox.engine import LOOKUP_RETRY, SINCE_MARGIN

if TYPE_CHECKING:
    from services.publishing.posts import PostKind, TickReport

__all__ = ["LOOKUP_RETRY", "SINCE_MARGIN", "FindsPublished", "can_look_up", "verify_handed_off"]

log = logging.getLogger("parvis.publishing")
T = TargetState


@runtime_checkable
class FindsPublished(Protocol):
    """Optional connector method: is our post on the account's timeline?"""

    def find_published(self, text: str, since: datetime) -> Published | None:
        """Our post with exactly ``text`` published at or after ``since``, or None if certainly absent."""
        ...


def can_look_up(connector: Connector | None) -> bool:
    """True if ``connector`` can tell whether a post is on the platform."""
    return connector is not None and callable(getattr(connector, "find_published", None))


def verify_handed_off(kind: PostKind, report: TickReport) -> None:
    """Natively scheduled posts whose time has passed: seen published -> sent; not seen in time -> a person."""
    engine = kind.engine
    now = kind.clock()
    for target in posts_repo.due_targets(kind.db, now=now, states=[T.HANDED_OFF]):
        item = kind.get(target.id)
        post = item.row[0]
        connector = kind.connector_for(target)
        status = getattr(connector, "published_status", None)
        found: Published | None = None
        why = ""
        if callable(status) and target.platform_id:
            try:
                found = status(target.platform_id)
            except Exception as err:  # noqa: BLE001 - cannot tell yet
                why = f"vérification impossible : {err or type(err).__name__}"
        else:
            _verdict, found, why = engine.look_up(kind, item, "verify")
        now = kind.clock()
        with write_transaction(kind.db):
            current = posts_repo.get_target(kind.db, target.id)
            if current.state is not T.HANDED_OFF:
                continue
            if found is not None:
                kind.target_sent(post, current, Published(platform_id=found.platform_id or current.platform_id or "",
                                                          permalink=found.permalink or current.permalink),
                                 current.sent_text or "", now, report, expect=T.HANDED_OFF, via="native")
            elif now > post.scheduled_at + kind.policy.verify_window:
                kind.target_to_verify(post, current, "Programmée sur la plateforme mais pas vue publiée après "
                                      "l'heure" + (f" ({why})" if why else "") + ".", now, report,
                                      expect=T.HANDED_OFF)
            else:
                posts_repo.update_target(kind.db, current.id, now=now, expect_state=T.HANDED_OFF,
                                         not_before=now + LOOKUP_RETRY)
