"""Mastodon re-check against the fake instance: edits and deletions made after Parvis took a mention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from connectors.mastodon.connector import MastodonConnector, from_settings
from core import repo
from core.errors import ConfigError
from services.connections.ingest import sync_connector
from tests.fakes import FakeMastodonApi

LATER = timedelta(minutes=11)  # past the re-check interval (10 minutes)


class Clock:
    """The connector's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake(httpserver) -> FakeMastodonApi:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


def connect(fake: FakeMastodonApi, clock: Clock, **kwargs) -> MastodonConnector:
    return MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0, clock=clock, **kwargs)


def sync(db, connector: MastodonConnector, clock: Clock):
    result = sync_connector(db, connector, now=clock.now)
    assert result.status == "ok", result.error
    return result


def steps(db, status: dict) -> list[tuple[str, str | None, str | None]]:
    return [(r["change"], r["old_text"], r["new_text"]) for r in repo.revisions(db, f"mastodon:{status['id']}")]


def text_of(db, status: dict) -> str:
    return db.execute("SELECT text FROM mentions WHERE uid = ?", (f"mastodon:{status['id']}",)).fetchone()[0]


def audited(db) -> int:
    return db.execute("SELECT count(*) FROM audit_log WHERE event = 'mention-revised'").fetchone()[0]


def asked(fake: FakeMastodonApi) -> list[list[str]]:
    """The ids of each GET /api/v1/statuses?id[]=… in order."""
    return [parse_qs(c.query).get("id[]", []) for c in fake.calls(r"^/api/v1/statuses$", "GET")]


def test_an_edit_after_ingest_is_stored_and_audited_once_and_the_text_follows(fake, clock, db):
    status = fake.mention("La fontaine fuit")
    connector = connect(fake, clock)
    assert sync(db, connector, clock).inserted == 1
    assert not fake.calls(r"^/api/v1/statuses$")  # just taken: nothing to re-check yet
    fake.edit(status["id"], "@villedetest La fontaine du parc fuit")
    clock.now += LATER
    assert sync(db, connector, clock).revised == 1
    assert steps(db, status) == [("edited", "@villedetest La fontaine fuit", "@villedetest La fontaine du parc fuit")]
    assert text_of(db, status) == "@villedetest La fontaine du parc fuit"  # the inbox shows the current text
    assert audited(db) == 1
    assert len(fake.calls(r"^/api/v1/statuses$")) == 1 and len(fake.calls(r"/history$")) == 1
    clock.now += LATER  # checked again: edited_at unchanged, no history read, nothing added
    assert sync(db, connector, clock).revised == 0
    assert len(fake.calls(r"^/api/v1/statuses$")) == 2 and len(fake.calls(r"/history$")) == 1
    assert audited(db) == 1
    fake.edit(status["id"], "@villedetest La fontaine du parc fuit encore")
    clock.now += LATER  # a second edit: one more step, the first one not repeated
    assert sync(db, connector, clock).revised == 1
    assert [s[2] for s in steps(db, status)] == ["@villedetest La fontaine du parc fuit",
                                                 "@villedetest La fontaine du parc fuit encore"]
    assert text_of(db, status) == "@villedetest La fontaine du parc fuit encore" and audited(db) == 2


def test_a_deletion_after_ingest_is_a_deleted_revision_but_a_muted_author_is_not_deleted(fake, clock, db):
    gone = fake.mention("Message regretté")
    kept = fake.mention("Merci pour le marché", author=("209005", "dom@mastodon.example", "Dom"))
    connector = connect(fake, clock)
    sync(db, connector, clock)
    fake.remove(gone["id"])
    connector.mute("209005")  # the instance now leaves Dom's statuses out of the multi-get
    clock.now += LATER
    assert sync(db, connector, clock).revised == 1
    assert steps(db, gone) == [("deleted", None, None)] and steps(db, kept) == []
    row = db.execute("SELECT deleted_at IS NOT NULL FROM mentions WHERE uid = ?", (f"mastodon:{gone['id']}",))
    assert row.fetchone()[0] == 1
    singles = [c.path.rsplit("/", 1)[1] for c in fake.calls(r"^/api/v1/statuses/\d+$", "GET")]
    assert sorted(singles) == sorted([gone["id"], kept["id"]])  # missing from the answer: confirmed one by one
    clock.now += LATER
    assert sync(db, connector, clock).revised == 0  # the deletion is recorded once
    assert steps(db, gone) == [("deleted", None, None)] and steps(db, kept) == []


def test_an_instance_without_the_multi_get_is_read_status_by_status(fake, clock, db):
    fake.version = "4.2.10"
    edited, deleted, quiet = (fake.mention(t) for t in ("Bonjour", "Au revoir", "Rien"))
    connector = connect(fake, clock, recheck_per_pass=8)  # the single reads take a quarter: 2 a pass
    sync(db, connector, clock)
    fake.edit(edited["id"], "@villedetest Bonjour à tous")
    fake.remove(deleted["id"])
    clock.now += LATER
    sync(db, connector, clock)
    assert len(fake.calls(r"^/api/v1/statuses$")) == 1  # refused (404): not asked again this pass
    read = [c.path.rsplit("/", 1)[1] for c in fake.calls(r"^/api/v1/statuses/\d+$", "GET")]
    assert read == [edited["id"], deleted["id"]]  # the oldest first, 2 of 3
    assert steps(db, edited) == [("edited", "@villedetest Bonjour", "@villedetest Bonjour à tous")]
    assert steps(db, deleted) == [("deleted", None, None)]
    clock.now += timedelta(minutes=1)
    sync(db, connector, clock)  # the one left comes first; the multi-get is not tried again before a day
    read = [c.path.rsplit("/", 1)[1] for c in fake.calls(r"^/api/v1/statuses/\d+$", "GET")]
    assert read[2:] == [quiet["id"]] and len(fake.calls(r"^/api/v1/statuses$")) == 1
    fake.version = "4.3.2"  # the instance upgraded
    clock.now += timedelta(days=1, minutes=1)
    sync(db, connector, clock)
    assert len(fake.calls(r"^/api/v1/statuses$")) == 2
    assert steps(db, quiet) == [] and len(steps(db, edited)) == 1


def test_a_429_mid_recheck_stops_the_pass_and_loses_nothing(fake, clock, db):
    statuses = [fake.mention(f"Message {i}") for i in range(25)]
    connector = connect(fake, clock)
    sync(db, connector, clock)
    first, second = statuses[2], statuses[22]  # checked in the first and in the second call of 20
    fake.edit(first["id"], "@villedetest Message 2 corrigé")
    fake.edit(second["id"], "@villedetest Message 22 corrigé")
    fake.fail("lookup", 429, {"error": "Too many requests"}, after=1)
    clock.now += LATER
    sync(db, connector, clock)
    assert len(fake.calls(r"^/api/v1/statuses$")) == 2 and not fake.calls(r"/history$")  # the window is used up
    assert steps(db, first) == steps(db, second) == []
    connector._limited_until = None  # the window reopened
    clock.now += timedelta(minutes=1)  # only what the 429 left is due
    sync(db, connector, clock)
    assert [s[2] for s in steps(db, first)] == ["@villedetest Message 2 corrigé"]  # its history waited
    assert [s[2] for s in steps(db, second)] == ["@villedetest Message 22 corrigé"]  # checked now
    assert audited(db) == 2
    assert sorted(asked(fake)[-1]) == sorted(s["id"] for s in statuses[20:])  # the 5 left unchecked, no more


def test_the_recheck_is_bounded_by_its_window_and_its_budget(fake, clock):
    old = fake.mention("Il y a longtemps", created_at=clock.now - timedelta(days=8))
    fake.mention("Message 0", created_at=clock.now - timedelta(hours=1))
    recent = [fake.mention(f"Message {i}") for i in range(1, 30)]
    connector = connect(fake, clock, recheck_per_pass=25)
    first = connector.fetch(None)
    state = json.loads(first.cursor)
    assert old["id"] not in state["recent"] and len(state["recent"]) == 30
    clock.now += LATER
    second = connector.fetch(first.cursor)
    assert [len(ids) for ids in asked(fake)] == [20, 5]  # 25 a pass, 20 ids a call
    assert not second.changes and recent[0]["id"] in json.loads(second.cursor)["recent"]
    off = connect(fake, clock, recheck_per_pass=0).fetch(None)
    assert "recent" not in json.loads(off.cursor)


def test_recheck_settings():
    values = {"PARVIS_MASTODON_BASE_URL": "https://mastodon.example", "PARVIS_MASTODON_ACCESS_TOKEN": "tok",
              "PARVIS_MASTODON_RECHECK_DAYS": "2", "PARVIS_MASTODON_RECHECK_PER_PASS": "60"}
    connector = from_settings(values.get)
    assert connector.recheck_window == timedelta(days=2) and connector.recheck_per_pass == 60
    default = from_settings({k: v for k, v in values.items() if "RECHECK" not in k}.get)
    assert default.recheck_window == timedelta(days=7) and default.recheck_per_pass == 40
    with pytest.raises(ConfigError, match="PARVIS_MASTODON_RECHECK_PER_PASS"):
        from_settings({**values, "PARVIS_MASTODON_RECHECK_PER_PASS": "beaucoup"}.get)
