"""Migrations of the dashboard: hourly roll-ups, first responders and response facts kept exact by triggers
(m060-m062).

The trigger bodies below are part of released migrations and stay as they are; the same roll-ups are recomputed
from scratch by :mod:`core.repo.rollups` (DML), which a test checks against the triggers.
"""

from __future__ import annotations

from sqlite_utils import Database

# Kinds of a mention's risk flags (objects {"kind": ...} or plain strings), each counted once per mention.
_DASH_KINDS = """SELECT DISTINCT CASE j.type WHEN 'object' THEN json_extract(j.value, '$.kind')
    WHEN 'text' THEN j.value END AS kind
    FROM json_each(CASE WHEN json_valid({m}.risk_flags) THEN {m}.risk_flags ELSE '[]' END) AS j"""
_DASH_ADD = """
    INSERT INTO dash_hourly (hour, platform, account, sentiment, n, answered, flagged)
    VALUES (substr(new.created_at, 1, 13), new.platform, new.account, COALESCE(new.sentiment, ''), 1,
            new.first_response_at IS NOT NULL, new.risk_flags NOT IN ('[]', ''))
    ON CONFLICT (hour, platform, account, sentiment) DO UPDATE SET n = n + 1,
        answered = answered + excluded.answered, flagged = flagged + excluded.flagged;
    INSERT INTO dash_risk_hourly (hour, platform, account, kind, n)
    SELECT substr(new.created_at, 1, 13), new.platform, new.account, k.kind, 1
    FROM (""" + _DASH_KINDS.format(m="new") + """) AS k WHERE k.kind IS NOT NULL
    ON CONFLICT (hour, platform, account, kind) DO UPDATE SET n = n + 1;"""
_DASH_REMOVE = """
    UPDATE dash_hourly SET n = n - 1, answered = answered - (old.first_response_at IS NOT NULL),
        flagged = flagged - (old.risk_flags NOT IN ('[]', ''))
    WHERE hour = substr(old.created_at, 1, 13) AND platform = old.platform AND account = old.account
        AND sentiment = COALESCE(old.sentiment, '');
    UPDATE dash_risk_hourly SET n = n - 1
    WHERE hour = substr(old.created_at, 1, 13) AND platform = old.platform AND account = old.account
        AND kind IN (SELECT kind FROM (""" + _DASH_KINDS.format(m="old") + """));"""

# A reply sent from Parvis is a response: remember its author (per-agent response times) and make sure the
# mention's first_response_at is set (never moved: the first response wins).
_DASH_SENT = """
    INSERT INTO first_responses (mention_uid, agent_id, draft_id, sent_at)
    VALUES (new.mention_uid, new.author_id, new.id, COALESCE(new.sent_at, new.updated_at))
    ON CONFLICT (mention_uid) DO UPDATE SET agent_id = excluded.agent_id, draft_id = excluded.draft_id,
        sent_at = excluded.sent_at WHERE excluded.sent_at < first_responses.sent_at;
    UPDATE mentions SET first_response_at = COALESCE(new.sent_at, new.updated_at)
    WHERE uid = new.mention_uid AND first_response_at IS NULL;"""


def m060_dashboard_rollups(db: Database) -> None:
    """Hourly roll-ups for the dashboard (kept exact by triggers), first responders, response-time index."""
    db.executescript("""
    CREATE TABLE dash_hourly (
        hour TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        sentiment TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        answered INTEGER NOT NULL DEFAULT 0,
        flagged INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, platform, account, sentiment)
    ) WITHOUT ROWID;
    CREATE TABLE dash_risk_hourly (
        hour TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, platform, account, kind)
    ) WITHOUT ROWID;
    CREATE TABLE first_responses (
        mention_uid TEXT PRIMARY KEY,
        agent_id INTEGER,
        draft_id INTEGER,
        sent_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX idx_mentions_responded ON mentions (created_at, platform, account, first_response_at, assigned_to, uid)
        WHERE first_response_at IS NOT NULL;
    CREATE INDEX idx_mentions_open_backlog ON mentions (created_at, status, platform, account)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    """)
    db.executescript(f"""
    CREATE TRIGGER dash_mentions_ai AFTER INSERT ON mentions BEGIN {_DASH_ADD} END;
    CREATE TRIGGER dash_mentions_ad AFTER DELETE ON mentions BEGIN {_DASH_REMOVE} END;
    CREATE TRIGGER dash_mentions_au AFTER UPDATE OF created_at, platform, account, sentiment, first_response_at,
        risk_flags ON mentions
    WHEN old.created_at IS NOT new.created_at OR old.platform IS NOT new.platform OR old.account IS NOT new.account
        OR old.sentiment IS NOT new.sentiment OR old.risk_flags IS NOT new.risk_flags
        OR (old.first_response_at IS NULL) IS NOT (new.first_response_at IS NULL)
    BEGIN {_DASH_REMOVE} {_DASH_ADD} END;
    CREATE TRIGGER dash_drafts_sent_ai AFTER INSERT ON drafts
    WHEN new.state = 'sent' AND new.mention_uid IS NOT NULL BEGIN {_DASH_SENT} END;
    CREATE TRIGGER dash_drafts_sent_au AFTER UPDATE OF state ON drafts
    WHEN new.state = 'sent' AND old.state IS NOT 'sent' AND new.mention_uid IS NOT NULL BEGIN {_DASH_SENT} END;
    """)
    # Imported here, not at the top: core.repo imports core.db, which imports this package.
    from core.repo.rollups import rebuild_dashboard_rollups

    rebuild_dashboard_rollups(db)


# First responses as a compact fact table ordered by creation time, epoch seconds already computed: the
# response-time charts read one range of it instead of joining mentions and first_responses row by row.
_DASH_RESPONSE_ADD = """
    INSERT OR REPLACE INTO dash_responses (created_s, mention_uid, platform, account, responded_s, agent_id)
    SELECT unixepoch(new.created_at), new.uid, new.platform, new.account, unixepoch(new.first_response_at),
           COALESCE((SELECT agent_id FROM first_responses WHERE mention_uid = new.uid), new.assigned_to)
    WHERE new.first_response_at IS NOT NULL;"""


def m061_dashboard_responses(db: Database) -> None:
    """Response facts (creation, first response, responder) kept exact by triggers, for response-time charts."""
    db.executescript(f"""
    CREATE TABLE dash_responses (
        created_s INTEGER NOT NULL,
        mention_uid TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        responded_s INTEGER NOT NULL,
        agent_id INTEGER,
        PRIMARY KEY (created_s, mention_uid)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX idx_dash_responses_uid ON dash_responses (mention_uid);
    CREATE TRIGGER dash_responses_ai AFTER INSERT ON mentions WHEN new.first_response_at IS NOT NULL
    BEGIN {_DASH_RESPONSE_ADD} END;
    CREATE TRIGGER dash_responses_au AFTER UPDATE OF created_at, platform, account, first_response_at, assigned_to
        ON mentions
    BEGIN
        DELETE FROM dash_responses WHERE mention_uid = old.uid;
        {_DASH_RESPONSE_ADD}
    END;
    CREATE TRIGGER dash_responses_ad AFTER DELETE ON mentions BEGIN
        DELETE FROM dash_responses WHERE mention_uid = old.uid;
        DELETE FROM first_responses WHERE mention_uid = old.uid;
    END;
    CREATE TRIGGER dash_responders_ai AFTER INSERT ON first_responses
    BEGIN UPDATE dash_responses SET agent_id = new.agent_id WHERE mention_uid = new.mention_uid; END;
    CREATE TRIGGER dash_responders_au AFTER UPDATE ON first_responses
    BEGIN UPDATE dash_responses SET agent_id = new.agent_id WHERE mention_uid = new.mention_uid; END;
    """)
    # Imported here, not at the top: core.repo imports core.db, which imports this package.
    from core.repo.rollups import rebuild_dashboard_responses

    rebuild_dashboard_responses(db)


def m062_batch_dashboard_insert(db: Database) -> None:
    """New mentions enter the hourly roll-ups in one statement per batch (core.repo.upsert_mentions), not per row."""
    db.executescript("DROP TRIGGER dash_mentions_ai; DROP TRIGGER dash_responses_ai;")
