"""Integrations with the city's other systems (issue #19, decision 0120): e-mail, Open311 back office, outgoing
webhooks. Every message they send is a row of ``integration_outbox``, driven by the one outbox engine."""

from __future__ import annotations

from sqlite_utils import Database


def m120_integrations(db: Database) -> None:
    """The integrations' outbox, per-person notice preferences, webhook endpoints, Open311 requests and mapping.

    ``integration_outbox.dedupe`` makes each message unique (``<channel>:<what>``): a notice or an event enqueued
    twice (a scan run again, a worker restarted) is one row. ``message_id`` is the stable identity a receiver sees
    (the e-mail's ``Message-ID``, the webhook's event id), fixed when the row is written.
    """
    db.executescript("""
    CREATE TABLE integration_outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('email', 'open311', 'webhook')),
        dedupe TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        recipient TEXT NOT NULL DEFAULT '',
        payload TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'done', 'failed', 'to_verify', 'cancelled')),
        claim_token TEXT,
        claimed_by TEXT,
        claimed_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        needs_check INTEGER NOT NULL DEFAULT 0,
        not_before TEXT,
        deadline_at TEXT NOT NULL,
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL DEFAULT '',
        via TEXT NOT NULL DEFAULT '',
        created_by INTEGER REFERENCES agents(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX idx_integration_outbox_due ON integration_outbox (channel, state, not_before);
    CREATE INDEX idx_integration_outbox_subject ON integration_outbox (subject, channel);
    CREATE TABLE notice_preferences (
        agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
        notice TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (agent_id, notice)
    );
    CREATE TABLE webhook_endpoints (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_by INTEGER REFERENCES agents(id),
        created_at TEXT NOT NULL
    );
    CREATE TABLE open311_requests (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        outbox_id INTEGER NOT NULL UNIQUE REFERENCES integration_outbox(id),
        service_code TEXT NOT NULL,
        service_request_id TEXT NOT NULL DEFAULT '',
        token TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'in_progress', 'resolved', 'failed')),
        remote_status TEXT NOT NULL DEFAULT '',
        status_notes TEXT NOT NULL DEFAULT '',
        created_by INTEGER REFERENCES agents(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        polled_at TEXT
    );
    CREATE INDEX idx_open311_requests_mention ON open311_requests (mention_uid, id);
    CREATE TABLE open311_service_map (
        tag TEXT PRIMARY KEY,
        service_code TEXT NOT NULL,
        updated_by INTEGER REFERENCES agents(id),
        updated_at TEXT NOT NULL
    );
    CREATE TABLE integration_cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE open311_services_cache (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        body TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    """)


def m180_integration_texts(db: Database) -> None:
    """Which resident's message an integration message quotes, and when its text was erased (decision 0180).

    ``mention_uid`` is set by the queueing functions on the messages that carry a resident's words (a forward
    e-mail, an Open311 service request, a ``mention.urgent`` webhook event), so that the RGPD erasure of the
    author finds them; rows written before are linked from their ``subject`` (the mention uid for those three).
    ``text_erased_at`` marks a row whose payload text was erased (RGPD erasure or retention).
    """
    db.executescript("""
    ALTER TABLE integration_outbox ADD COLUMN mention_uid TEXT;
    ALTER TABLE integration_outbox ADD COLUMN text_erased_at TEXT;
    UPDATE integration_outbox SET mention_uid = subject
        WHERE ((channel = 'email' AND topic = 'forward') OR channel = 'open311'
               OR (channel = 'webhook' AND topic = 'mention.urgent'))
          AND subject IN (SELECT uid FROM mentions);
    CREATE INDEX idx_integration_outbox_mention ON integration_outbox (mention_uid) WHERE mention_uid IS NOT NULL;
    """)
