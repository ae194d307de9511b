"""Storage: migrations, WAL, idempotent upsert that keeps agents' work, accent-free search, bad files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest

from core import repo
from core.db import open_db, schema_version, write_transaction
from core.errors import SchemaTooNewError, StorageError
from core.migrations import migrations
from core.models import Status
from tests.conftest import make_mention


def test_migrations_apply_once_and_wal_is_on(db_path):
    db_path.parent.mkdir(parents=True)
    first = open_db(db_path)
    names = [m.name for m in migrations.applied(first)]
    first.close()
    second = open_db(db_path)
    assert [m.name for m in migrations.applied(second)] == names
    assert names[0] == "m001_mentions" and len(names) == schema_version()
    assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert second.execute("PRAGMA user_version").fetchone()[0] == schema_version()


def test_upsert_is_idempotent_and_keeps_agent_work(db, agents, now):
    m = make_mention("Nid-de-poule rue des Lilas")
    repo.upsert_mentions(db, [m], now=now)
    repo.set_status(db, m.uid, Status.ASSIGNED, now=now)
    repo.set_assignee(db, m.uid, agents["julie"].id, now=now)
    repo.add_tag(db, m.uid, "voirie")
    repo.add_note(db, m.uid, agents["julie"].id, "Transmis aux services techniques", now=now)
    again = repo.upsert_mentions(db, [m, m], now=now + timedelta(minutes=1))
    assert again.inserted == [] and again.updated == [m.uid]
    assert repo.mention_count(db) == 1
    item = repo.get_item(db, m.uid)
    assert item.status is Status.ASSIGNED and item.assigned_to == agents["julie"].id
    assert item.tags == ("voirie",)
    assert [n.text for n in repo.notes_for(db, m.uid)] == ["Transmis aux services techniques"]


def test_edit_seen_on_platform_is_kept_as_revision(db, now):
    m = make_mention("Horaires de la piscine ?")
    repo.upsert_mentions(db, [m], now=now)
    edited = make_mention("Horaires de la piscine dimanche ?", pid=m.platform_id)
    res = repo.upsert_mentions(db, [edited], now=now + timedelta(hours=1))
    assert res.revised == [(m.uid, "edited", "Horaires de la piscine ?", "Horaires de la piscine dimanche ?")]
    item = repo.get_item(db, m.uid)
    assert item.mention.text == "Horaires de la piscine dimanche ?" and item.edited_at is not None
    assert repo.revisions(db, m.uid)[0]["old_text"] == "Horaires de la piscine ?"
    # search finds the new text, not the old one
    assert repo.list_inbox(db, repo.InboxQuery(search="dimanche"))[0].uid == m.uid


@pytest.mark.parametrize("query", ["decu", "DÉÇU", "déçu", "decu collecte"])
def test_full_text_search_ignores_accents_and_case(db, now, query):
    hit = make_mention("Très déçu par la collecte des encombrants 😡")
    miss = make_mention("Merci pour le marché de Noël")
    repo.upsert_mentions(db, [hit, miss], now=now)
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(search=query))] == [hit.uid]


def test_search_query_is_sanitised(db, now):
    repo.upsert_mentions(db, [make_mention("guillemets \" et NEAR( parenthèses")], now=now)
    assert repo.list_inbox(db, repo.InboxQuery(search='" OR NEAR( *')) == []  # FTS syntax is not interpreted
    assert len(repo.list_inbox(db, repo.InboxQuery(search='parenthèses"'))) == 1


def test_inbox_filters_and_priority_order(db, agents, now):
    low = make_mention("Merci !", created_at=now - timedelta(hours=1))
    high = make_mention("Arbre tombé sur la route", created_at=now - timedelta(hours=2))
    fb = make_mention("Parking plein", platform=make_mention().platform.FACEBOOK)
    repo.upsert_mentions(db, [low, high, fb], now=now,
                         scores=[repo.Scores(priority=1), repo.Scores(priority=9), repo.Scores(priority=5)])
    items = repo.list_inbox(db, repo.InboxQuery())
    assert [i.uid for i in items] == [high.uid, fb.uid, low.uid]
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(order="newest"))][0] == fb.uid
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(platforms=("facebook",)))] == [fb.uid]
    repo.set_status(db, low.uid, Status.CLOSED, now=now)
    assert low.uid not in [i.uid for i in repo.list_inbox(db, repo.InboxQuery())]
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(statuses=("closed",)))] == [low.uid]
    assert repo.count_inbox(db, repo.InboxQuery()) == 2


def test_default_inbox_query_uses_the_partial_index(db):
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT uid FROM mentions m WHERE m.status IN ('new', 'assigned', 'waiting', "
        "'escalated') ORDER BY m.priority DESC, m.created_at DESC LIMIT 50").fetchall()
    assert "idx_mentions_open_priority" in " ".join(str(r) for r in plan)


def test_concurrent_writer_and_reader(db_path, now):
    db_path.parent.mkdir(parents=True)
    open_db(db_path).close()
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        w = open_db(db_path)
        try:
            for batch in range(20):
                with write_transaction(w):
                    repo.upsert_mentions(w, [make_mention(f"message {batch}-{i}") for i in range(50)], now=now)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            w.close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reader = open_db(db_path)
    seen = []
    while not done.is_set():
        seen.append(repo.count_inbox(reader, repo.InboxQuery()))
    thread.join()
    seen.append(repo.count_inbox(reader, repo.InboxQuery()))
    reader.close()
    assert not errors
    assert seen == sorted(seen) and seen[-1] == 1000  # readers never see a half batch going backwards


def test_a_failed_commit_is_rolled_back_and_the_next_write_starts_clean(db):
    """SQLite keeps the transaction open when COMMIT itself fails (here a deferred foreign key still violated; the
    same happens after SQLITE_FULL): write_transaction rolls it back before raising the COMMIT's error."""
    db.executescript("""
    CREATE TABLE scratch_parent (id INTEGER PRIMARY KEY);
    CREATE TABLE scratch_child (id INTEGER PRIMARY KEY,
                                parent_id INTEGER REFERENCES scratch_parent(id) DEFERRABLE INITIALLY DEFERRED);
    """)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), write_transaction(db):
        db.execute("INSERT INTO scratch_child (id, parent_id) VALUES (1, 42)")  # checked at COMMIT only
    assert not db.conn.in_transaction
    assert db.execute("SELECT count(*) FROM scratch_child").fetchone()[0] == 0
    with write_transaction(db):  # a fresh transaction, not the failed one carried on
        db.execute("INSERT INTO scratch_parent (id) VALUES (42)")
        db.execute("INSERT INTO scratch_child (id, parent_id) VALUES (2, 42)")
    assert db.execute("SELECT id FROM scratch_child").fetchall() == [(2,)]


def test_missing_directory_is_reported_not_created(tmp_path):
    target = tmp_path / "nope" / "parvis.db"
    with pytest.raises(StorageError, match="does not exist"):
        open_db(target)
    assert not target.parent.exists()


def test_corrupt_file_is_reported_and_left_alone(tmp_path):
    bad = tmp_path / "parvis.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="corrupt"):
        open_db(bad)
    assert bad.read_bytes() == b"this is not a database" * 100


def test_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "parvis.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer Parvis"):
        open_db(path)
    assert path.read_bytes() == before


def test_unwritable_directory_is_reported(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    # tests may run as root, who can write anywhere: simulate the permission check failing
    monkeypatch.setattr("core.db.os.access", lambda path, mode: str(path) != str(ro))
    with pytest.raises(StorageError, match="not writable"):
        open_db(ro / "parvis.db")
    assert list(ro.iterdir()) == []
