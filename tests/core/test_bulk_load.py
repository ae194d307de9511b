"""Bulk load (a city's history in one transaction): same result as the normal upsert, all or nothing."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from core import repo
from core.db import PAGE_SIZE, open_db, write_transaction
from core.models import Platform, Status
from core.repo import stats as stats_repo
from tests.conftest import NOW, make_mention

TEXTS = ["Nid-de-poule rue des Lilas", "La cantine était déçue ce midi", "Merci pour le marché de Noël !",
         "Encore des encombrants devant l'école", "Lampadaire éteint avenue Foch", "Bravo aux agents 👏"]


def _history(n: int, prefix: str = "h") -> tuple[list, list[repo.Scores]]:
    """``n`` mentions over ten days, both platforms, some flagged, with their scores."""
    ms, sc = [], []
    for i in range(n):
        ms.append(make_mention(f"{TEXTS[i % len(TEXTS)]} #{i}", pid=f"{prefix}{i}", author=f"auteur{i % 7}",
                               platform=Platform.X if i % 3 else Platform.FACEBOOK,
                               created_at=NOW - timedelta(days=10) + timedelta(minutes=37 * i)))
        flags = ({"kind": "insult", "score": 0.9},) if i % 5 == 0 else ()
        sc.append(repo.Scores(sentiment=("negative", "neutral", "positive")[i % 3], sentiment_confidence=0.8,
                              risk_score=0.9 if flags else 0.1, risk_flags=flags, priority=(i * 7) % 10))
    return ms, sc


def _derived(db) -> dict[str, list]:
    """Everything a bulk load must leave exactly as the normal path does."""
    return {
        "mentions": db.execute("SELECT rowid, uid, text, author_handle, created_at, sentiment, risk_flags, priority "
                               "FROM mentions ORDER BY rowid").fetchall(),
        "hourly": db.execute("SELECT * FROM dash_hourly ORDER BY 1, 2, 3, 4").fetchall(),
        "risk": db.execute("SELECT * FROM dash_risk_hourly ORDER BY 1, 2, 3, 4").fetchall(),
        "search": [[i.uid for i in repo.list_inbox(db, repo.InboxQuery(search=q, limit=500))]
                   for q in ("decu", "lampadaire", "noel", "auteur3", "bravo")],
        "indexes": repo.secondary_indexes(db),
    }


def _fts_ok(db) -> None:
    """FTS5's own check against the mentions table (raises 'database disk image is malformed' otherwise)."""
    db.execute("INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('integrity-check', 1)")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _open(tmp_path: Path, name: str):
    (tmp_path / name).mkdir()
    return open_db(tmp_path / name / "parvis.db")


def test_bulk_load_into_an_empty_database_matches_the_normal_path(tmp_path):
    ms, sc = _history(230)
    normal, bulk = _open(tmp_path, "normal"), _open(tmp_path, "bulk")
    for start in range(0, len(ms), 40):
        repo.upsert_mentions(normal, ms[start:start + 40], now=NOW, scores=sc[start:start + 40])
    with repo.bulk_load(bulk, expected=len(ms)) as load:
        for start in range(0, len(ms), 40):
            load.add(ms[start:start + 40], now=NOW, scores=sc[start:start + 40])
        assert load.rebuilds_indexes and load.started_empty
        assert repo.secondary_indexes(bulk) == []  # dropped while loading...
    assert load.inserted == 230
    expected = _derived(normal)
    assert expected["search"][0] and expected["risk"]  # the comparison below is not between empty results
    assert _derived(bulk) == expected  # ...and back, identical, with the same rows, search and roll-ups
    _fts_ok(bulk)


def test_bulk_load_keeps_team_work_records_edits_and_indexes_rows_it_saw_twice(db, agents):
    old, old_sc = _history(30, prefix="old")
    repo.upsert_mentions(db, old, now=NOW, scores=old_sc)
    repo.set_status(db, old[0].uid, Status.ASSIGNED, now=NOW)
    repo.set_assignee(db, old[0].uid, agents["julie"].id, now=NOW)
    repo.add_tag(db, old[0].uid, "voirie")
    new, new_sc = _history(60, prefix="new")
    edited_old = make_mention("Lampadaire réparé, merci", pid=old[0].platform_id, author="auteur0",
                              platform=old[0].platform, created_at=old[0].created_at)
    edited_new = make_mention("Piscine fermée dimanche ?", pid=new[5].platform_id, author="auteur5",
                              platform=new[5].platform, created_at=new[5].created_at)
    with repo.bulk_load(db, expected=90) as load:
        assert load.rebuilds_indexes and not load.started_empty
        load.add(new[:30], now=NOW, scores=new_sc[:30])
        # a later batch edits a mention of this load (not yet in the full-text index) and an older one
        res = load.add([edited_new, edited_old, *new[30:]], now=NOW + timedelta(hours=1),
                       scores=[repo.Scores(), repo.Scores(), *new_sc[30:]])
    assert sorted(u for u, *_ in res.revised) == sorted([edited_new.uid, edited_old.uid])
    assert repo.mention_count(db) == 90
    item = repo.get_item(db, old[0].uid)
    assert item.status is Status.ASSIGNED and item.assigned_to == agents["julie"].id and item.tags == ("voirie",)
    assert repo.revisions(db, new[5].uid)[0]["old_text"] == new[5].text
    found = [i.uid for i in repo.list_inbox(db, repo.InboxQuery(search="piscine dimanche"))]
    assert found == [edited_new.uid]
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(search="repare"))] == [edited_old.uid]
    _fts_ok(db)
    before = _derived(db)
    with write_transaction(db):
        stats_repo.rebuild_rollups(db)  # the roll-ups were kept exact: a rebuild from scratch changes nothing
    assert _derived(db) == before


def test_an_error_during_a_bulk_load_leaves_the_database_as_it_was(db):
    old, old_sc = _history(20, prefix="old")
    repo.upsert_mentions(db, old, now=NOW, scores=old_sc)
    before = _derived(db)
    new, new_sc = _history(50, prefix="new")
    with pytest.raises(RuntimeError, match="disk full"), repo.bulk_load(db, expected=50) as load:
        load.add(new, now=NOW, scores=new_sc)
        raise RuntimeError("disk full")
    assert _derived(db) == before  # rows, search, roll-ups and every index back
    _fts_ok(db)


def test_a_small_load_into_a_large_table_keeps_its_indexes(db):
    old, old_sc = _history(40, prefix="old")
    repo.upsert_mentions(db, old, now=NOW, scores=old_sc)
    indexes = repo.secondary_indexes(db)
    new, new_sc = _history(10, prefix="new")
    with repo.bulk_load(db, expected=10) as load:
        load.add(new, now=NOW, scores=new_sc)
        assert not load.rebuilds_indexes and repo.secondary_indexes(db) == indexes
    assert repo.mention_count(db) == 50
    assert [i.uid for i in repo.list_inbox(db, repo.InboxQuery(search="encombrants", limit=100))
            if i.uid.startswith("x:new") or i.uid.startswith("facebook:new")]
    _fts_ok(db)


def test_readers_see_the_previous_state_until_the_load_commits(db_path):
    db_path.parent.mkdir(parents=True)
    db = open_db(db_path)
    old, old_sc = _history(5, prefix="old")
    repo.upsert_mentions(db, old, now=NOW, scores=old_sc)
    reader = open_db(db_path)
    new, new_sc = _history(20, prefix="new")
    with repo.bulk_load(db, expected=20) as load:
        load.add(new, now=NOW, scores=new_sc)
        assert repo.mention_count(reader) == 5
        assert len(repo.secondary_indexes(reader)) == len(repo.secondary_indexes(db)) + 9  # reader keeps them (m151)
        assert repo.list_inbox(reader, repo.InboxQuery(search="lampadaire"))
    assert repo.mention_count(reader) == 25
    reader.close()


def test_a_writer_blocked_by_a_bulk_load_gets_a_clear_error(db_path, monkeypatch):
    from core.errors import DatabaseBusy

    db_path.parent.mkdir(parents=True)
    db = open_db(db_path)
    other = open_db(db_path)
    other.execute("PRAGMA busy_timeout = 50")
    monkeypatch.setattr("core.db.BUSY_TIMEOUT_S", 0.05)
    with repo.bulk_load(db, expected=1) as load:
        load.add([make_mention("Bonjour")], now=NOW)
        with pytest.raises(DatabaseBusy, match="nothing was changed"), write_transaction(other):
            pass
    other.close()


def test_new_databases_use_8k_pages_and_old_ones_keep_theirs(tmp_path):
    fresh = open_db(tmp_path / "new.db")
    assert fresh.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    fresh.close()
    legacy = tmp_path / "old.db"
    conn = sqlite3.connect(legacy)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE probe (x)")  # a database that already exists, written with 4 KB pages
    conn.execute("DROP TABLE probe")
    conn.close()
    db = open_db(legacy)
    assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert repo.mention_count(db) == 0
