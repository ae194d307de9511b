"""The audit log is append-only and tamper-evident: edits, deletions, insertions, reordering and a whole-chain
rewrite made with raw SQL are all detected."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import audit
from core.db import write_transaction
from tests.audit.conftest import tamper


def test_intact_chain_verifies(chain):
    report = audit.verify_chain(chain)
    assert report.ok and report.checked == 10 and report.head_id == 10
    assert report.head_hash == audit.chain_head(chain)["hash"]


def test_triggers_refuse_update_and_delete(chain):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        chain.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        chain.execute("DELETE FROM audit_log WHERE id = 3")
    assert audit.verify_chain(chain).ok
    assert audit.missing_guards(chain) == []


def test_edited_row_is_named(chain, db_path):
    tamper(db_path, "UPDATE audit_log SET properties = '{\"after\":\"closed\",\"before\":\"new\"}' WHERE id = 4")
    report = audit.verify_chain(chain)
    assert not report.ok and report.broken_id == 4 and "edited" in report.reason
    assert report.checked == 3


def test_edited_row_with_its_own_hash_recomputed_breaks_the_link_to_the_next(chain, db_path):
    # The attacker edits row 4 and gives it a matching hash: row 4 verifies on its own, but row 5's prev_hash
    # still names the old row 4; only the link check can tell.
    conn = sqlite3.connect(db_path)
    values = conn.execute(f"SELECT {', '.join(audit.AUDIT_COLUMNS)} FROM audit_log WHERE id = 4").fetchone()
    conn.close()
    row = dict(zip(audit.AUDIT_COLUMNS, values, strict=True))
    row["actor"] = "mallory@valmont.fr"
    row["hash"] = audit.row_hash(row)
    tamper(db_path, f"UPDATE audit_log SET actor = '{row['actor']}', hash = '{row['hash']}' WHERE id = 4")
    report = audit.verify_chain(chain)
    assert not report.ok and report.broken_id == 5 and "prev_hash" in report.reason
    assert report.checked == 4  # rows 1 to 4 verify, the edited one included


def test_deleted_row_is_detected(chain, db_path):
    tamper(db_path, "DELETE FROM audit_log WHERE id = 6")
    report = audit.verify_chain(chain)
    assert not report.ok and report.broken_id == 7 and "deleted" in report.reason


def test_inserted_row_is_detected(chain, db_path):
    # Make room at id 5 and insert a forged row that chains correctly onto row 4.
    prev = audit.stored_hash(chain, 4)
    forged = {"id": 5, "at": "2026-11-23T10:00:04.500000+00:00", "actor": "mallory@valmont.fr", "role": "admin",
              "event": "status-changed", "subject": "x:t99", "properties": '{"after":"closed","before":"new"}',
              "prev_hash": prev}
    forged["hash"] = audit.row_hash(forged)
    values = ", ".join(repr(forged[k]) if isinstance(forged[k], str) else str(forged[k]) for k in audit.AUDIT_COLUMNS)
    tamper(db_path, "UPDATE audit_log SET id = id + 1000 WHERE id >= 5",
           "UPDATE audit_log SET id = id - 999 WHERE id >= 1005",
           f"INSERT INTO audit_log ({', '.join(audit.AUDIT_COLUMNS)}) VALUES ({values})")
    report = audit.verify_chain(chain)
    assert not report.ok and report.broken_id == 6


def test_reordered_rows_are_detected(chain, db_path):
    tamper(db_path, "UPDATE audit_log SET id = -5 WHERE id = 5", "UPDATE audit_log SET id = 5 WHERE id = 6",
           "UPDATE audit_log SET id = 6 WHERE id = -5")
    report = audit.verify_chain(chain)
    assert not report.ok and report.broken_id == 5


def rewrite_whole_chain(db_path, *, new_actor: str) -> None:
    """The attacker edits row 2 and recomputes every hash after it, so the chain verifies on its own."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute(f"SELECT {', '.join(audit.AUDIT_COLUMNS)} FROM audit_log ORDER BY id").fetchall()
    conn.close()
    statements, prev = [], audit.GENESIS
    for r in rows:
        row = dict(zip(audit.AUDIT_COLUMNS, r, strict=True))
        if row["id"] == 2:
            row["actor"] = new_actor
        row["prev_hash"] = prev
        row["hash"] = audit.row_hash(row)
        prev = row["hash"]
        statements.append(f"UPDATE audit_log SET actor = '{row['actor']}', prev_hash = '{row['prev_hash']}', "
                          f"hash = '{row['hash']}' WHERE id = {row['id']}")
    tamper(db_path, *statements)


def test_whole_chain_rewrite_passes_alone_but_not_against_an_exported_head(chain, db_path):
    head = audit.chain_head(chain)
    rewrite_whole_chain(db_path, new_actor="mallory@valmont.fr")
    assert audit.verify_chain(chain).ok  # self-consistent: only the countersigned head can tell
    assert audit.id_of_hash(chain, head["hash"]) is None
    assert audit.stored_hash(chain, head["id"]) != head["hash"]


def test_record_outside_a_transaction_still_chains(db, now):
    for i in range(3):
        audit.record(db, audit.TagAdded(actor="a@valmont.fr", subject="x:1", tag=f"t{i}"), at=now)
    assert not db.conn.in_transaction
    assert audit.verify_chain(db).checked == 3


def test_rolled_back_change_leaves_no_row(db, now):
    with pytest.raises(RuntimeError), write_transaction(db):
        audit.record(db, audit.TagAdded(actor="a@valmont.fr", subject="x:1", tag="t"), at=now)
        raise RuntimeError("the change failed")
    assert audit.chain_head(db) is None


def test_select_events_filters_by_time_actor_and_event(chain, now):
    rows = audit.select_events(chain, since=now + timedelta(seconds=2), until=now + timedelta(seconds=5))
    assert [r["id"] for r in rows] == [3, 4, 5]
    assert audit.count_events(chain, actors=("julie@valmont.fr",), events=("status-changed",)) == 10
    assert audit.select_events(chain, actors=("nobody",)) == []


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(actor=_text, subject=_text, text=_text)
def test_fast_verification_hashes_exactly_like_the_reference(actor, subject, text):
    row = {"id": 7, "at": "2026-11-23T10:00:00.000000+00:00", "actor": actor, "role": "legal", "event": "note-added",
           "subject": subject, "properties": json.dumps({"text": text}, ensure_ascii=False), "prev_hash": "ab" * 32}
    fast = audit._fast_canonical(row["id"], row["at"], row["actor"], row["role"], row["event"],  # noqa: SLF001
                                 row["subject"], row["properties"], row["prev_hash"])
    assert fast == audit.canonical(row)
