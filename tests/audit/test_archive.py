"""The legal archive keeps every published message as sent, appends later platform changes, and is sealed."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from core import audit
from core.errors import PermissionDenied, ValidationError
from core.repo.archive import ArchiveFilter
from services.archive import published as archive
from tests.audit.conftest import tamper


def test_published_reply_is_archived_as_sent(db, published, agents, now):
    mention, message = published
    assert message.text == "Merci, le service propreté passe demain. — Julie"
    assert message.body == "Merci, le service propreté passe demain."
    assert message.signature == "— Julie"
    assert (message.author, message.approver) == ("julie@valmont.fr", "sophie@valmont.fr")
    assert message.charter_version == 4 and message.charter_result == ({"code": "tone_ok", "severity": "info"},)
    assert message.in_reply_to == mention.uid
    assert message.in_reply_to_snapshot["text"] == mention.text
    assert message.in_reply_to_snapshot["author_handle"] == "camille"
    assert (message.platform_id, message.permalink) == ("r-100", "https://x.com/valmont/status/r-100")
    assert message.account == "@valmont" and message.published_at == now and message.status == "published"
    archived = audit.select_events(db, events=("message-archived",))
    assert len(archived) == 1 and message.record_sha256 in archived[0]["properties"]


def test_archiving_twice_is_idempotent(db, published, now):
    _, message = published
    again = archive.archive_published(db, kind="reply", platform="x", platform_id="r-100", text="other",
                                      author="x@valmont.fr", published_at=now, now=now)
    assert again.id == message.id and again.text == message.text
    assert audit.count_events(db, events=("message-archived",)) == 1


def test_later_changes_are_appended_never_overwritten(db, published, now):
    _, message = published
    edited = archive.record_change(db, platform="x", platform_id="r-100", change="edited",
                                   text="Merci ! Passage demain matin.", seen_at=now + timedelta(hours=1))
    assert edited is not None
    assert archive.record_change(db, platform="x", platform_id="r-100", change="edited",
                                 text="Merci ! Passage demain matin.", seen_at=now + timedelta(hours=2)) is None
    archive.record_change(db, platform="x", platform_id="r-100", change="hidden", seen_at=now + timedelta(hours=3))
    history = archive.history(db, message.id)
    assert [c.change for c in history.changes] == ["edited", "hidden"]
    assert history.message.text == message.text  # the text as sent is still there
    assert history.message.status == "hidden"
    archive.record_change(db, platform="x", platform_id="r-100", change="deleted", seen_at=now + timedelta(hours=4))
    assert archive.history(db, message.id).message.status == "deleted"
    assert archive.record_change(db, platform="x", platform_id="unknown", change="deleted", seen_at=now) is None


def test_unknown_change_is_refused(db, published, now):
    with pytest.raises(ValidationError):
        archive.record_change(db, platform="x", platform_id="r-100", change="liked", seen_at=now)


def test_sync_revisions_reach_the_archive(db, published, now):
    assert archive.record_mention_changes(db, [("x:r-100", "deleted", None), ("x:t-other", "deleted", None)],
                                          now=now) == 1


def test_history_shows_the_answered_mention_and_the_workflow(db, published):
    mention, message = published
    audit.record(db, audit.ReplySent(actor="system:worker", subject=mention.uid, draft_id=1, text=message.text,
                                     platform="x", platform_id="r-100"), at=message.published_at)
    history = archive.history(db, message.id)
    assert history.answered is not None and history.answered.mention.text == mention.text
    assert [e["event"] for e in history.events] == ["message-archived", "reply-sent"]


@pytest.mark.parametrize(("filters", "expected"), [
    (ArchiveFilter(), 1),
    (ArchiveFilter(agent="sophie@valmont.fr"), 1),
    (ArchiveFilter(agent="karim@valmont.fr"), 0),
    (ArchiveFilter(platforms=("facebook",)), 0),
    (ArchiveFilter(account="@valmont", status="published"), 1),
    (ArchiveFilter(status="deleted"), 0),
    (ArchiveFilter(keyword="proprete"), 1),  # accents ignored
    (ArchiveFilter(keyword="poubelles"), 1),  # words of the mention answered
    (ArchiveFilter(keyword="stade"), 0),
])
def test_search_filters(db, published, now, filters, expected):
    messages, total = archive.search(db, filters)
    assert len(messages) == total == expected


def test_search_by_date(db, published, now):
    assert archive.search(db, ArchiveFilter(since=now - timedelta(days=1), until=now + timedelta(days=1)))[1] == 1
    assert archive.search(db, ArchiveFilter(until=now))[1] == 0


def test_archive_rows_refuse_update_and_delete(db, published):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE archive_messages SET text = 'autre chose'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM archive_messages")


def test_archive_tampering_is_detected(db, db_path, published):
    assert archive.verify_archive(db).ok
    tamper(db_path, "UPDATE archive_messages SET text = 'Nous ne ferons rien.' WHERE id = 1")
    report = archive.verify_archive(db)
    assert not report.ok and "archive_messages #1" in report.problems[0] and "edited" in report.problems[0]


def test_archive_row_resealed_by_attacker_still_differs_from_the_chain(db, db_path, published):
    from core.repo import archive as arch

    row = {f: getattr(published[1], f) for f in arch.MESSAGE_FIELDS}
    row.update(text="Nous ne ferons rien.", published_at=row["published_at"].isoformat(),
               archived_at=row["archived_at"].isoformat(), charter_result="[]", in_reply_to_snapshot="{}")
    seal = arch.record_sha256(row, arch.MESSAGE_FIELDS)
    tamper(db_path, f"UPDATE archive_messages SET text = 'Nous ne ferons rien.', charter_result = '[]', "
                    f"in_reply_to_snapshot = '{{}}', published_at = '{row['published_at']}', "
                    f"archived_at = '{row['archived_at']}', record_sha256 = '{seal}' WHERE id = 1")
    report = archive.verify_archive(db)
    assert not report.ok and "audit chain" in report.problems[0]


def test_only_legal_directors_and_admins_read_the_archive(agents):
    archive.require_audit_reader(agents["marc"])
    archive.require_audit_reader(agents["sophie"])
    with pytest.raises(PermissionDenied):
        archive.require_audit_reader(agents["julie"])
