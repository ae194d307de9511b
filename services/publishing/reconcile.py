"""Looking on the platform before anything is sent again: orphaned claims, ambiguous failures, native hand-offs.

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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from connectors.base import Connector
from core.db import write_transaction
from core.models import Post, PostTarget, Published, TargetState
from core.repo import posts as posts_repo

if TYPE_CHECKING:
    from services.publishing.posts import Publisher, TickReport

log = logging.getLogger("parvis.publishing")
T = TargetState
SINCE_MARGIN = timedelta(minutes=5)  # clock skew between us and the platform
LOOKUP_RETRY = timedelta(seconds=60)


@runtime_checkable
class FindsPublished(Protocol):
    """Optional connector method: is our post on the account's timeline?"""

    def find_published(self, text: str, since: datetime) -> Published | None:
        """Our post with exactly ``text`` published at or after ``since``, or None if certainly absent."""
        ...


def can_look_up(connector: Connector | None) -> bool:
    """True if ``connector`` can tell whether a post is on the platform."""
    return connector is not None and callable(getattr(connector, "find_published", None))


def _since(post: Post, target: PostTarget) -> datetime:
    starts = [t for t in (target.due_at, target.claimed_at, post.scheduled_at) if t is not None]
    return min(starts) - SINCE_MARGIN


def look_up(pub: Publisher, post: Post, target: PostTarget, kind: str) -> tuple[str, Published | None, str]:
    """``("found", published, "")``, ``("absent", None, "")`` or ``("unknown", None, why)``; logged as an attempt."""
    connector = pub.connector_for(target)
    text = target.sent_text or ""
    if not can_look_up(connector) or not text:
        return "unknown", None, "recherche automatique impossible sur ce compte"
    now = pub.clock()
    try:
        found = connector.find_published(text, since=_since(post, target))  # type: ignore[union-attr]
    except Exception as err:  # noqa: BLE001 - a failed lookup is an answer: "cannot tell"
        outcome, result, why = "unknown", None, f"recherche impossible : {err or type(err).__name__}"
    else:
        if found is None:
            outcome, result, why = "absent", None, ""
        elif found.platform_id != target.platform_id and posts_repo.platform_id_recorded(
                pub.db, target.platform, target.account, found.platform_id):
            outcome, result, why = "unknown", None, (f"la publication trouvée ({found.platform_id}) est déjà "
                                                     "attribuée à un autre envoi")
        else:
            outcome, result, why = "found", found, ""
    pub.hook("looked_up")
    with write_transaction(pub.db):
        posts_repo.log_attempt(pub.db, target_id=target.id, post_id=post.id, attempt=target.attempts, kind=kind,
                               worker=pub.worker_id, now=now, outcome=outcome, error=why,
                               platform_id=result.platform_id if result else None)
    return outcome, result, why


def reconcile(pub: Publisher, report: TickReport) -> None:
    """Claims left ``publishing`` by a worker that stopped mid-call: found -> sent; absent -> retry; else a person."""
    now = pub.clock()
    for target in posts_repo.claimed_targets(pub.db):
        orphaned = target.claimed_by == pub.worker_id or (
            target.claimed_at is not None and target.claimed_at <= now - pub.policy.stale_after)
        if not orphaned:
            continue
        post = posts_repo.get_post(pub.db, target.post_id)
        if post.native_schedule and now < post.scheduled_at + pub.policy.verify_after and \
                post.scheduled_at - (target.claimed_at or now) >= pub.policy.native_min_lead:
            continue  # maybe handed off natively: it can only be seen on the timeline after its time
        outcome, found, why = look_up(pub, post, target, "reconcile")
        now = pub.clock()
        with write_transaction(pub.db):
            current = posts_repo.get_target(pub.db, target.id)
            if current.state is not T.PUBLISHING or current.claim_token != target.claim_token:
                continue
            if outcome == "found" and found is not None:
                pub.sent(post, current, found, current.sent_text or "", now, report, token=current.claim_token,
                         via="lookup")
            elif outcome == "absent":
                pub.retry(post, current, "interrupted", "Envoi interrompu ; la publication n'est pas sur la "
                          "plateforme (vérifié) : nouvel essai.", now, report, token=current.claim_token,
                          delay=timedelta(0))
            elif not can_look_up(pub.connector_for(current)) or now > pub.policy.deadline(current, post):
                pub.to_verify(post, current, f"Envoi interrompu (arrêt du worker pendant l'appel) ; {why}.", now,
                              report, token=current.claim_token)
            else:
                continue  # the lookup failed: try again next tick, until the deadline
            pub.hook("reconcile_txn")
        report.reconciled += 1


def check_before_retry(pub: Publisher, target: PostTarget, report: TickReport) -> bool:
    """After an ambiguous failure, look before calling again; True if the target may be claimed now."""
    post = posts_repo.get_post(pub.db, target.post_id)
    outcome, found, why = look_up(pub, post, target, "check")
    now = pub.clock()
    with write_transaction(pub.db):
        current = posts_repo.get_target(pub.db, target.id)
        if current.state is not T.PENDING or not current.needs_check:
            return False
        past = now > pub.policy.deadline(current, post)
        if outcome == "found" and found is not None:
            pub.sent(post, current, found, current.sent_text or "", now, report, expect=T.PENDING, via="lookup")
            return False
        if outcome == "absent":
            if past:
                pub.fail(post, current, current.error_code or "deadline", "Délai dépassé ; la publication n'est "
                         f"pas sur la plateforme (vérifié). Dernière erreur : {current.error}", now, report)
                return False
            posts_repo.update_target(pub.db, current.id, now=now, expect_state=T.PENDING, needs_check=False)
            return True
        if past or not can_look_up(pub.connector_for(current)):
            pub.to_verify(post, current, f"Réponse incertaine de la plateforme ({current.error}) ; {why}.", now,
                          report, expect=T.PENDING)
        else:
            posts_repo.update_target(pub.db, current.id, now=now, expect_state=T.PENDING,
                                     not_before=min(now + LOOKUP_RETRY, pub.policy.deadline(current, post)))
    return False


def verify_handed_off(pub: Publisher, report: TickReport) -> None:
    """Natively scheduled posts whose time has passed: seen published -> sent; not seen in time -> a person."""
    now = pub.clock()
    for target in posts_repo.due_targets(pub.db, now=now, states=[T.HANDED_OFF]):
        post = posts_repo.get_post(pub.db, target.post_id)
        connector = pub.connector_for(target)
        status = getattr(connector, "published_status", None)
        found: Published | None = None
        why = ""
        if callable(status) and target.platform_id:
            try:
                found = status(target.platform_id)
            except Exception as err:  # noqa: BLE001 - cannot tell yet
                why = f"vérification impossible : {err or type(err).__name__}"
        else:
            outcome, found, why = look_up(pub, post, target, "verify")
        now = pub.clock()
        with write_transaction(pub.db):
            current = posts_repo.get_target(pub.db, target.id)
            if current.state is not T.HANDED_OFF:
                continue
            if found is not None:
                pub.sent(post, current, Published(platform_id=found.platform_id or current.platform_id or "",
                                                  permalink=found.permalink or current.permalink),
                         current.sent_text or "", now, report, expect=T.HANDED_OFF, via="native")
            elif now > post.scheduled_at + pub.policy.verify_window:
                pub.to_verify(post, current, "Programmée sur la plateforme mais pas vue publiée après l'heure"
                              + (f" ({why})" if why else "") + ".", now, report, expect=T.HANDED_OFF)
            else:
                posts_repo.update_target(pub.db, current.id, now=now, expect_state=T.HANDED_OFF,
                                         not_before=now + LOOKUP_RETRY)
