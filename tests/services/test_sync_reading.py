"""Issue #16: a sync tells apart what it read, what it refused as malformed (listed), what held nothing to read,
and what the API refused; Connexions shows the three apart."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import ConnectorInfo, FetchResult, Rejected
from connectors.x.connector import XConnector
from core import repo
from core.config import Settings
from core.models import Platform
from services.connections import status
from services.connections.ingest import sync_connector
from tests.conftest import make_mention
from tests.fakes import FakeXApi


class _Scripted:
    name = "x"
    info = ConnectorInfo(platform=Platform.X, name="x", capabilities=frozenset())

    def __init__(self, *results: FetchResult) -> None:
        self.results = list(results)

    def fetch(self, cursor):
        return self.results.pop(0)


def test_rejected_items_are_listed_counted_and_kept_apart_from_nothing_to_read(db, now, tmp_path):
    bad = Rejected(item_id="123", reason="post 123: missing author_id", permalink="https://x.com/i/web/status/123")
    connector = _Scripted(
        FetchResult(mentions=[make_mention("Bonjour")], cursor="1", skipped=[bad.reason], rejected=[bad],
                    ignored={"retweets": 4}),
        FetchResult(mentions=[], cursor="2", skipped=[bad.reason], rejected=[bad]))
    sync_connector(db, connector, now=now)
    result = sync_connector(db, connector, now=now + timedelta(minutes=1))
    assert result.status == "ok" and repo.connector_health(db, "x").cursor == "2"  # the cursor moved past it
    [item] = repo.rejected_items(db, "x")
    assert (item.item_id, item.seen, item.permalink) == ("123", 2, "https://x.com/i/web/status/123")
    assert item.last_seen == now + timedelta(minutes=1) and item.first_seen == now
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={"PARVIS_X_BEARER_TOKEN": "b",
                                                                             "PARVIS_X_USER_ID": "1000"})
    [x] = [c for c in status.overview(db, settings, now=now).connectors if c.entry.name == "x"]
    assert x.rejected_total == 1 and x.rejected[0].item_id == "123"
    assert x.reading == {"read": 0, "malformed": 1, "nothing": 0}  # the last pass


def test_nothing_to_read_is_counted_not_malformed(db, now):
    connector = _Scripted(FetchResult(mentions=[], cursor="1", ignored={"status_gone": 39, "not_mention": 1}))
    sync_connector(db, connector, now=now)
    assert repo.connector_counts(db, "x")["ignored"] == 40 and repo.connector_counts(db, "x")["skipped"] == 0
    assert repo.connector_health(db, "x").last_error is None


def test_x_errors_only_answer_is_the_api_saying_no(db, now, httpserver):
    fake = FakeXApi()
    base = fake.install(httpserver)
    connector = XConnector(bearer_token=fake.bearer, user_id="4040", base_url=base, backoff=0)  # unknown account
    result = sync_connector(db, connector, now=now)
    health = repo.connector_health(db, "x")
    assert result.status == "error" and result.error_code == "permanent_failure"
    assert health.status == "error" and "Could not find user with id: [4040]" in (health.last_error or "")
