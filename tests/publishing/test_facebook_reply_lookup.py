"""An uncertain Facebook reply, through the reply outbox and the fake Graph API: the comment was created but its
answer was lost (a 500, code 2); the worker finds it with ``find_reply`` under the resident's comment and records
it as sent, without a second comment."""

from __future__ import annotations

from datetime import timedelta

from connectors.facebook.connector import FacebookConnector
from core import audit, repo
from core.db import open_db
from core.models import DraftState, Platform, Role
from tests.fakes import FakeGraphApi
from tests.publishing.fakes import FakeClock
from tests.publishing.reply_lookup_steps import send_with_a_lost_answer
from tests.publishing.test_reply_exactly_once import T0


def test_a_lost_answer_is_found_under_the_comment_and_recorded_without_a_second_send(httpserver, tmp_path):
    fake = FakeGraphApi(start=T0 - timedelta(minutes=2))
    clock = FakeClock(T0 - timedelta(hours=1))
    connector = FacebookConnector(page_id=fake.page_id, page_token=fake.token, base_url=fake.install(httpserver),
                                  version=fake.version, backoff=0, clock=clock)
    db = open_db(tmp_path / "p.db")
    julie = repo.create_agent(db, email="julie@v.fr", name="Julie M", initials="JM", role=Role.COMMUNITY_MANAGER,
                              now=clock())
    comment = fake.add_comment(fake.add_post("Collecte des encombrants"), "Quand passe la collecte rue Hoche ?",
                               author=("6100001", "Camille Martin"))
    (mention,) = connector.fetch(None).mentions
    draft = send_with_a_lost_answer(db, julie, mention, connector, fake, clock, Platform.FACEBOOK)
    ours = [c["id"] for c in fake.comments.values() if c["from"]["id"] == fake.page_id]
    assert draft.state is DraftState.SENT and ours == [draft.platform_post_id]
    assert [target for target, _ in fake.replies] == [comment]  # sent once: found, not sent again
    assert fake.calls(rf"/{comment}/comments$", "GET")  # looked up under the comment
    events = audit.events_for(db, mention.uid)
    assert [e["properties"]["via"] for e in events if e["event"] == "reply-sent"] == ["lookup"]
    assert "reply-retry-scheduled" in [e["event"] for e in events]
    db.close()
