"""How the posts' kind records what happened to one target, each inside the engine's write transaction:
published (``sent``), pending again (after a backoff, or to be looked up first), ``failed`` with a reason, or
"à vérifier" for a person. Every change is conditional (claim token or expected state) and audited. When to
retry, look or give up is decided once for every kind by :mod:`services.outbox.engine`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, fields
from datetime import datetime

from sqlite_utils import Database

from core import audit, repo
from core.clock import Clock
from core.models import Post, PostTarget, Published, TargetState
from core.repo import posts as posts_repo
from services.publishing.content import PublishPolicy, refresh_state

log = logging.getLogger("parvis.publishing")
T = TargetState


@dataclass(slots=True)
class TickReport:
    """What one tick did (counts per outcome); ``leased`` is False when another worker holds the lease."""

    leased: bool = True
    published: int = 0
    handed_off: int = 0
    retried: int = 0
    failed: int = 0
    to_verify: int = 0
    held: int = 0
    reconciled: int = 0

    def as_dict(self) -> dict[str, int | bool]:
        """Counts as a plain dict (logs, benchmark)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class OutcomeRecorder:
    """Base of :class:`services.publishing.posts.PostKind`: the ways a target's attempt ends, on a (post, target)."""

    db: Database
    clock: Clock
    policy: PublishPolicy
    rng: random.Random

    def fail_target(self, post: Post, target: PostTarget, code: str, error: str, now: datetime, report: TickReport,
                    *, token: str | None = None, expect: T | None = None) -> bool:
        """Definitely not published: ``failed`` with the reason (a person may retry)."""
        if not posts_repo.update_target(self.db, target.id, now=now, expect_token=token, expect_state=expect,
                                        state=T.FAILED, error_code=code, error=error[:500], not_before=None,
                                        needs_check=False):
            return False
        posts_repo.finish_attempts(self.db, target.id, outcome="failed", now=now, error_code=code, error=error)
        refresh_state(self.db, post.id, now=now)
        audit.record(self.db, audit.PostFailed(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}", post_id=post.id,
                                               account=target.account, error_code=code, error=error[:500],
                                               attempts=target.attempts), at=now)
        report.failed += 1
        log.warning("post %s on %s failed: %s (%s)", post.id, target.account, error, code)
        return True

    def schedule_again(self, post: Post, target: PostTarget, code: str, error: str, at: datetime, now: datetime,
                       report: TickReport, *, check_first: bool, token: str | None = None,
                       expect: T | None = None) -> bool:
        """Not published yet: pending again from ``at`` (``check_first``: look on the timeline before calling)."""
        if not posts_repo.update_target(self.db, target.id, now=now, expect_token=token, expect_state=expect,
                                        state=T.PENDING, not_before=at, error_code=code, error=error[:500],
                                        needs_check=check_first):
            return False
        posts_repo.finish_attempts(self.db, target.id, outcome="retry", now=now, error_code=code, error=error)
        refresh_state(self.db, post.id, now=now)
        audit.record(self.db, audit.PostRetryScheduled(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                       post_id=post.id, account=target.account,
                                                       attempt=target.attempts, error_code=code, error=error[:500],
                                                       next_at=at, check_first=check_first), at=now)
        report.retried += 1
        return True

    def target_to_verify(self, post: Post, target: PostTarget, reason: str, now: datetime, report: TickReport, *,
                         token: str | None = None, expect: T | None = None) -> bool:
        """Parvis cannot tell whether it went out: a person checks ("à vérifier"); never retried by itself."""
        if not posts_repo.update_target(self.db, target.id, now=now, expect_token=token, expect_state=expect,
                                        state=T.TO_VERIFY, error_code="to_verify", error=reason[:500],
                                        not_before=None, needs_check=False):
            return False
        posts_repo.finish_attempts(self.db, target.id, outcome="to_verify", now=now, error=reason)
        refresh_state(self.db, post.id, now=now)
        audit.record(self.db, audit.PostToVerify(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                 post_id=post.id, account=target.account, reason=reason[:500]), at=now)
        report.to_verify += 1
        log.warning("post %s on %s needs a person: %s", post.id, target.account, reason)
        return True

    def target_sent(self, post: Post, target: PostTarget, published: Published, text: str, now: datetime,
                    report: TickReport, *, token: str | None = None, expect: T | None = None,
                    via: str = "api") -> bool:
        """Published: record the platform id and permalink, and the exact text in the audit trail."""
        if not posts_repo.update_target(self.db, target.id, now=now, expect_token=token, expect_state=expect,
                                        state=T.SENT, platform_id=published.platform_id,
                                        permalink=published.permalink, published_at=now, not_before=None,
                                        needs_check=False, error_code="", error=""):
            return False
        posts_repo.finish_attempts(self.db, target.id, outcome="sent", now=now, platform_id=published.platform_id)
        refresh_state(self.db, post.id, now=now)
        audit.record(self.db, audit.PostPublished(actor=audit.SYSTEM_WORKER, subject=f"post:{post.id}",
                                                  post_id=post.id, account=target.account,
                                                  platform=str(target.platform), text=text,
                                                  platform_id=published.platform_id, permalink=published.permalink,
                                                  attempt=target.attempts, via=via), at=now)
        archive_post(self.db, post, target, published, text, now=now)
        report.published += 1
        return True


def archive_post(db: Database, post: Post, target: PostTarget, published: Published, text: str, *,
                 now: datetime, actor: str = audit.SYSTEM_WORKER) -> None:
    """Store the published post in the legal archive (issue #7), in the caller's transaction."""
    from services.archive import published as archive  # the archive service, same layer

    author = repo.get_agent(db, post.author_id)
    approver = repo.get_agent(db, post.approver_id) if post.approver_id is not None else None
    archive.archive_published(
        db, kind="post", source=f"post:{post.id}", platform=str(target.platform), account=target.account,
        platform_id=published.platform_id, permalink=published.permalink, text=text, author=author.email,
        author_name=author.name, approver=approver.email if approver else None,
        approver_name=approver.name if approver else None, charter_version=post.charter_version,
        charter_result=[r for r in post.charter_result if r.get("account") in (None, target.account)],
        published_at=now, now=now, actor=actor,
        payload={"platform_id": published.platform_id, "permalink": published.permalink})

