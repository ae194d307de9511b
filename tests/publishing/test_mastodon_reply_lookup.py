"""An uncertain Mastodon reply, through the reply outbox and the fake instance: the status was created but its
answer was lost (a 503); the worker finds it with ``find_reply`` and records it as sent, without a second send."""

from __future__ import annotations

from datetime import timedelta

from connectors.mastodon.connector import MastodonConnector
from core import audit, repo
from core.db import open_db
from core.models import DraftState, Platform, Role
from tests.fakes import FakeMastodonApi
from tests.publishing.fakes import FakeClock
from tests.publishing.reply_lookup_steps import send_with_a_lost_answer
from tests.publishing.test_reply_exactly_once import T0


def test_a_lost_answer_is_found_on_the_instance_and_recorded_without_a_second_send(httpserver, tmp_path):
    fake = FakeMastodonApi(start=T0 - timedelta(minutes=2))
    fake.install(httpserver)
    connector = MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0)
    db = open_db(tmp_path / "p.db")
    clock = FakeClock(T0 - timedelta(hours=1))
    julie = repo.create_agent(db, email="julie@v.fr", name="Julie M", initials="JM", role=Role.COMMUNITY_MANAGER,
                              now=clock())
    fake.mention("Quand passe la collecte rue Hoche ?")
    mention = connector.fetch(None).mentions[0]
    draft = send_with_a_lost_answer(db, julie, mention, connector, fake, clock, Platform.MASTODON)
    ours = [s for s in fake.statuses.values() if s["account"]["id"] == fake.me["id"]]
    assert draft.state is DraftState.SENT and [s["id"] for s in ours] == [draft.platform_post_id]
    assert len(fake.calls(r"^/api/v1/statuses$", "POST")) == 1  # sent once: found, not sent again
    assert fake.calls(r"/api/v1/accounts/\d+/statuses$", "GET")  # looked up on the instance
    events = audit.events_for(db, mention.uid)
    assert [e["properties"]["via"] for e in events if e["event"] == "reply-sent"] == ["lookup"]
    assert "reply-retry-scheduled" in [e["event"] for e in events]
    db.close()
