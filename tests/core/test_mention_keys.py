"""Time-ordered mention keys: search pages come newest (or oldest) first whatever order mentions arrived in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import mention_keys, repo
from core.db import open_db
from tests.conftest import make_mention


def _search(db, text, **kw):
    return [i.mention.text for i in repo.list_inbox(db, repo.InboxQuery(search=text, open_only=False, **kw))]


def test_search_is_in_time_order_even_when_history_is_imported_later(db, now):
    recent = [make_mention(f"piscine fermée {i}", created_at=now - timedelta(hours=i)) for i in range(1, 4)]
    repo.upsert_mentions(db, recent, now=now)
    history = [make_mention(f"piscine vide {i}", created_at=now - timedelta(days=30 + i)) for i in range(1, 4)]
    repo.upsert_mentions(db, list(reversed(history)), now=now)  # oldest history arrives last, in any order
    assert _search(db, "piscine", order="newest") == [
        "piscine fermée 1", "piscine fermée 2", "piscine fermée 3", "piscine vide 1", "piscine vide 2",
        "piscine vide 3"]
    assert _search(db, "piscine", order="oldest")[:2] == ["piscine vide 3", "piscine vide 2"]
    assert _search(db, "piscine", order="newest", limit=2, offset=2) == ["piscine fermée 3", "piscine vide 1"]


def test_search_date_filters_are_exact_at_the_edges(db):
    t = datetime(2026, 3, 10, 8, 0, 0, 500_000, tzinfo=UTC)
    rows = [make_mention("arbre tombé a", created_at=t - timedelta(microseconds=1)),
            make_mention("arbre tombé b", created_at=t),
            make_mention("arbre tombé c", created_at=t + timedelta(microseconds=300)),
            make_mention("arbre tombé d", created_at=t + timedelta(seconds=1))]
    repo.upsert_mentions(db, rows, now=t)
    assert _search(db, "arbre", since=t, order="newest") == ["arbre tombé d", "arbre tombé c", "arbre tombé b"]
    assert _search(db, "arbre", until=t + timedelta(microseconds=300), order="oldest") == [
        "arbre tombé a", "arbre tombé b"]
    assert _search(db, "arbre", since=t, until=t + timedelta(seconds=1), order="newest") == [
        "arbre tombé c", "arbre tombé b"]


def test_mentions_of_the_same_instant_keep_their_arrival_order(db, now):
    same = now - timedelta(minutes=2)
    first = make_mention("Fuite d'eau rue Haute", created_at=same, conversation_id="c1")
    second = make_mention("Fuite d'eau, toujours", created_at=same, conversation_id="c1")
    repo.upsert_mentions(db, [first], now=now)
    repo.upsert_mentions(db, [second], now=now)
    thread = repo.conversation(db, "x", "c1")
    assert [i.mention.text for i in thread] == ["Fuite d'eau rue Haute", "Fuite d'eau, toujours"]
    assert _search(db, "fuite", order="oldest") == ["Fuite d'eau rue Haute", "Fuite d'eau, toujours"]


def test_keys_follow_time_and_stay_in_range():
    a = datetime(2026, 1, 1, tzinfo=UTC)
    assert mention_keys.block_start(a) < mention_keys.block_start(a + timedelta(milliseconds=1))
    assert mention_keys.block_start(datetime(1969, 12, 31, 23, 59, tzinfo=UTC)) < 0
    far = mention_keys.block_start(datetime(9999, 12, 31, tzinfo=UTC))  # hostile dates are clamped
    assert far + mention_keys.SLOTS < 2 ** 63


def test_older_database_is_renumbered_and_still_searchable(db_path, now):
    db_path.parent.mkdir(parents=True)
    db = open_db(db_path)
    newer = make_mention("cantine froide", created_at=now - timedelta(days=1))
    older = make_mention("cantine bruyante", created_at=now - timedelta(days=9))
    repo.upsert_mentions(db, [newer], now=now)
    repo.upsert_mentions(db, [older], now=now)
    # As written before migration m007: rowids in arrival order, full-text index on those rowids.
    db.execute("UPDATE mentions SET rowid = 1 WHERE uid = ?", (newer.uid,))
    db.execute("UPDATE mentions SET rowid = 2 WHERE uid = ?", (older.uid,))
    db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_time_ordered_mention_keys'")
    db.execute("PRAGMA user_version = 6")  # m001-m006 applied
    db.close()
    db = open_db(db_path)
    keys = dict(db.execute("SELECT uid, rowid FROM mentions").fetchall())
    assert keys[older.uid] < keys[newer.uid]
    assert keys[newer.uid] // mention_keys.SLOTS == mention_keys.millis(newer.created_at)
    assert _search(db, "cantine", order="newest") == ["cantine froide", "cantine bruyante"]
    db.close()


def test_newest_first_search_does_not_sort_all_matches(db, now):
    repo.upsert_mentions(db, [make_mention(f"travaux rue {i}", created_at=now - timedelta(hours=i))
                              for i in range(1, 30)], now=now)
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    repo.list_inbox(db, repo.InboxQuery(search="travaux", platforms=("x",), since=now - timedelta(days=7),
                                        order="newest"))
    db.conn.set_trace_callback(None)
    sql = next(s for s in seen if "mentions_fts" in s)
    plan = " ".join(str(r) for r in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
    assert "TEMP B-TREE" not in plan  # matches come from the index in time order; SQLite stops after a page
