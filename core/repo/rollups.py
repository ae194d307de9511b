"""Dashboard roll-ups recomputed from the mentions and drafts (DML): the repair path of the tables that the
triggers of core/migrations/dashboard.py (m060-m062) keep exact, and the risk-flag SQL shared by every roll-up
query (core/repo/mention_writes.py, core/repo/stats.py).
"""

from __future__ import annotations

from sqlite_utils import Database

# The risk-flag kinds of a mention ``m`` (objects {"kind": ...} or plain strings), shared by every roll-up query.
RISK_FLAGS_EACH = "json_each(CASE WHEN json_valid(m.risk_flags) THEN m.risk_flags ELSE '[]' END) AS j"
RISK_KIND = "CASE j.type WHEN 'object' THEN json_extract(j.value, '$.kind') WHEN 'text' THEN j.value END"


def rebuild_dashboard_rollups(db: Database) -> None:
    """Recompute the dashboard roll-ups and first responders from the mentions and drafts (idempotent).

    One statement at a time (never ``executescript``, which commits first): a bulk load calls this inside
    its transaction.
    """
    for sql in (
        "DELETE FROM dash_hourly",
        "DELETE FROM dash_risk_hourly",
        "DELETE FROM first_responses",
        """INSERT INTO dash_hourly (hour, platform, account, sentiment, n, answered, flagged)
        SELECT substr(created_at, 1, 13), platform, account, COALESCE(sentiment, ''), count(*),
               sum(first_response_at IS NOT NULL), sum(risk_flags NOT IN ('[]', ''))
        FROM mentions GROUP BY 1, 2, 3, 4""",
        """INSERT INTO dash_risk_hourly (hour, platform, account, kind, n)
        SELECT hour, platform, account, kind, count(DISTINCT rid) FROM (
            SELECT substr(m.created_at, 1, 13) AS hour, m.platform, m.account, m.rowid AS rid,
                   """ + RISK_KIND + """ AS kind
            FROM mentions AS m, """ + RISK_FLAGS_EACH + """
            WHERE m.risk_flags NOT IN ('[]', '')
        ) WHERE kind IS NOT NULL GROUP BY 1, 2, 3, 4""",
        """INSERT INTO first_responses (mention_uid, agent_id, draft_id, sent_at)
        SELECT mention_uid, author_id, id, min(COALESCE(sent_at, updated_at)) FROM drafts
        WHERE state = 'sent' AND mention_uid IS NOT NULL GROUP BY mention_uid""",
    ):
        db.execute(sql)


def rebuild_dashboard_responses(db: Database) -> None:
    """Recompute the response facts from the mentions and first responders (idempotent)."""
    db.execute("DELETE FROM dash_responses")
    db.execute("""
    INSERT INTO dash_responses (created_s, mention_uid, platform, account, responded_s, agent_id)
    SELECT unixepoch(m.created_at), m.uid, m.platform, m.account, unixepoch(m.first_response_at),
           COALESCE(fr.agent_id, m.assigned_to)
    FROM mentions m LEFT JOIN first_responses fr ON fr.mention_uid = m.uid WHERE m.first_response_at IS NOT NULL
    """)

