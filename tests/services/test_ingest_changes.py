"""Platform changes reported twice (a pass that failed after finding them) are recorded once."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import ConnectorInfo, FetchResult, PlatformChange
from core import audit, repo
from core.models import Platform
from services.connections.ingest import sync_connector
from tests.conftest import make_mention


class _Scripted:
    """A connector whose fetches return prepared results, one per call."""

    name = "scripted"
    info = ConnectorInfo(platform=Platform.X, name="scripted", capabilities=frozenset())

    def __init__(self, *results: FetchResult) -> None:
        self.results = list(results)

    def fetch(self, cursor):
        return self.results.pop(0)


def test_repeated_deletion_and_hide_are_recorded_once(db, now):
    m = make_mention("Le parc est fermé ?")
    gone = PlatformChange(uid=m.uid, change="deleted")
    hidden = PlatformChange(uid=m.uid, change="hidden")
    shown = PlatformChange(uid=m.uid, change="unhidden")
    connector = _Scripted(FetchResult(mentions=[m], cursor="1"),
                          FetchResult(mentions=[], cursor="2", changes=[hidden, hidden]),
                          FetchResult(mentions=[], cursor="3", changes=[hidden, shown, hidden, gone]),
                          FetchResult(mentions=[], cursor="4", changes=[gone]))
    for i in range(4):
        sync_connector(db, connector, now=now + timedelta(minutes=i))
    assert [r["change"] for r in repo.revisions(db, m.uid)] == ["hidden", "unhidden", "hidden", "deleted"]
    assert audit.event_names(db).count("mention-revised") == 4
    item = repo.get_item(db, m.uid)
    assert item.hidden and item.deleted_at is not None
