"""Shared steps of the "answer lost, reply found on the platform" tests: schedule a reply, lose the platform's
answer once, and let the reply worker tick until the draft leaves ``publishing``."""

from __future__ import annotations

import random

from sqlite_utils import Database

from connectors.base import Connector
from core import repo
from core.models import Agent, Draft, DraftState, Mention, Platform
from services.inbox import replies
from services.publishing.reply_outbox import ReplyWorker
from tests.publishing.fakes import FakeClock
from tests.publishing.test_reply_exactly_once import FAST, T0


def send_with_a_lost_answer(db: Database, agent: Agent, mention: Mention, connector: Connector, fake: object,
                            clock: FakeClock, platform: Platform) -> Draft:
    """Store ``mention``, schedule a reply to it at T0 with the fake losing its first answer, run the worker."""
    repo.upsert_mentions(db, [mention], now=clock())
    draft = replies.create_draft(db, agent, mention_uid=mention.uid, now=clock(),
                                 body="Bonjour, la collecte passe mardi matin.")
    replies.schedule(db, agent, draft.id, at=T0, now=clock())
    fake.lose_answers = 1  # type: ignore[attr-defined] - the platform creates it, the answer never arrives
    worker = ReplyWorker(db, {platform: connector}, clock=clock, policy=FAST, worker_id="w", rng=random.Random(0))
    clock.now = T0
    for _ in range(20):
        worker.tick()
        if repo.get_draft(db, draft.id).state is not DraftState.PUBLISHING:
            break
        clock.advance(seconds=20)
    return repo.get_draft(db, draft.id)


