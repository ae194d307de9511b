"""Fixtures for the audit trail, archive, retention and RGPD tests."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from core import audit, repo
from core.models import Published, Status
from services.archive import published as archive
from tests.conftest import make_mention

GUARDS = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


def tamper(path: Path, *statements: str, restore_guards: bool = True) -> None:
    """Change the file behind Parvis's back, as an attacker with file access would (triggers dropped, then put back)."""
    conn = sqlite3.connect(path)
    conn.executescript("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;"
                       "DROP TRIGGER IF EXISTS archive_messages_no_update;")
    for sql in statements:
        conn.execute(sql)
    if restore_guards:
        conn.executescript(GUARDS)
    conn.commit()
    conn.close()


@pytest.fixture
def chain(db, now):
    """A database with ten audit events (ids 1..10)."""
    for i in range(10):
        audit.record(db, audit.StatusChanged(actor="julie@valmont.fr", role="community_manager", subject=f"x:t{i}",
                                             before="new", after="assigned"), at=now + timedelta(seconds=i))
    return db


@pytest.fixture
def published(db, agents, now):
    """A mention answered by Julie, approved by Sophie, archived as sent; returns (mention, archived message)."""
    mention = make_mention("Les poubelles ne sont pas ramassées rue des Lilas", author="camille",
                           conversation_id="conv-1")
    repo.upsert_mentions(db, [mention], now=now)
    draft = repo.create_draft(db, mention_uid=mention.uid, author_id=agents["julie"].id,
                              body="Merci, le service propreté passe demain.",
                              signed_text="Merci, le service propreté passe demain. — Julie",
                              platform=mention.platform, charter_version=4,
                              charter_result=[{"code": "tone_ok", "severity": "info"}], now=now)
    repo.save_draft(db, dataclasses.replace(draft, approver_id=agents["sophie"].id, sent_at=now))
    repo.set_status(db, mention.uid, Status.ANSWERED, now=now)
    message = archive.archive_draft(db, repo.get_draft(db, draft.id),
                                    Published(platform_id="r-100", permalink="https://x.com/valmont/status/r-100"),
                                    now=now, account="@valmont", payload='{"data": {"id": "r-100"}}')
    return mention, message
