"""Reads (and benchmark-only bulk writes) for the dashboard, reports and topics (issue #9).

Counts per hour come from the ``dash_hourly`` / ``dash_risk_hourly`` roll-ups that triggers keep exact
(core/migrations/dashboard.py m060). When the selection filters on tags (or a municipal service, resolved to
tags), the same rows are computed from ``mentions`` directly; both paths return the same shape, and a test checks
they agree.
Hour keys are UTC ``"YYYY-MM-DDTHH"`` prefixes of the stored ISO times; instants are epoch seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from core import mention_keys
from core.clock import from_iso, to_iso
from core.models import PRIVATE_KIND
from core.repo import free_mention_keys
from core.repo.rollups import RISK_FLAGS_EACH, RISK_KIND, rebuild_dashboard_responses, rebuild_dashboard_rollups

_OPEN = "('new', 'assigned', 'waiting', 'escalated')"
# Accounts are summed (the account filter selects them): the account field of these rows is ''.
HourRow = tuple[str, str, str, str, int, int, int]  # hour, platform, '', sentiment, n, answered, flagged
RiskRow = tuple[str, str, str, str, int]  # hour, platform, '', kind, n
ResponseRow = tuple[int, int, str, str, int | None]  # created, responded (epoch s), platform, account, agent
BacklogRow = tuple[str, int, int, int]  # status, created (epoch s), how many, how many without a response


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsScope:
    """A selection of mentions: created in [since, until), optional channels, accounts and tag groups.

    ``tag_groups`` is ANDed; inside a group any tag matches (a service is one group of tags).
    """

    since: datetime
    until: datetime
    platforms: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    tag_groups: tuple[tuple[str, ...], ...] = ()

    @property
    def hour_bounds(self) -> tuple[str, str]:
        """UTC hour keys: since floored, until rounded up to the next whole hour."""
        lo = self.since.replace(minute=0, second=0, microsecond=0)
        hi = self.until.replace(minute=0, second=0, microsecond=0)
        if hi < self.until:
            hi += timedelta(hours=1)
        return to_iso(lo)[:13], to_iso(hi)[:13]


def _in(column: str, values: Sequence[str], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({','.join('?' * len(values))})"


def _channel_where(scope: StatsScope, alias: str, params: list[Any]) -> list[str]:
    clauses = []
    if scope.platforms:
        clauses.append(_in(f"{alias}.platform", scope.platforms, params))
    if scope.accounts:
        clauses.append(_in(f"{alias}.account", scope.accounts, params))
    return clauses


def _mention_where(scope: StatsScope, params: list[Any], *, window: bool = True) -> str:
    """WHERE clauses on ``mentions m`` for the scope, appending their parameters."""
    clauses = []
    if window:
        lo, hi = scope.hour_bounds
        clauses += ["m.created_at >= ?", "m.created_at < ?"]
        params += [lo, hi]
    clauses += _channel_where(scope, "m", params)
    clauses += [_tag_clause("m.uid", group, params) for group in scope.tag_groups]
    return " AND ".join(clauses) if clauses else "1"


def _tag_clause(uid_column: str, tags: Sequence[str], params: list[Any]) -> str:
    # EXISTS, not IN: the window is scanned once and each row checks the tag primary key, which stays fast
    # however many mentions carry the tag over the whole history.
    return (f"EXISTS (SELECT 1 FROM mention_tags t WHERE t.mention_uid = {uid_column} AND "
            + _in("t.tag", tags, params) + ")")


def _use_rollup(scope: StatsScope, rollup: bool | None) -> bool:
    """Whether the hourly roll-ups can answer (they hold no tags); ``rollup=False`` forces the mentions."""
    return (rollup is None or rollup) and not scope.tag_groups


def _rollup_where(scope: StatsScope, params: list[Any]) -> str:
    """The WHERE of a roll-up table (alias ``h``): the window's hours and the channel filters."""
    lo, hi = scope.hour_bounds
    params += [lo, hi]
    return " AND ".join(["h.hour >= ?", "h.hour < ?", *_channel_where(scope, "h", params)])


def hourly(db: Database, scope: StatsScope, *, rollup: bool | None = None) -> list[HourRow]:
    """Mentions per UTC hour, channel, account and sentiment label: count, answered, flagged."""
    params: list[Any] = []
    if _use_rollup(scope, rollup):
        where = _rollup_where(scope, params)
        sql = ("SELECT hour, platform, '', sentiment, sum(n), sum(answered), sum(flagged) FROM dash_hourly h "
               f"WHERE {where} GROUP BY hour, platform, sentiment HAVING sum(n) > 0")
    else:
        where = _mention_where(scope, params)
        sql = ("SELECT substr(m.created_at, 1, 13), m.platform, '', COALESCE(m.sentiment, ''), count(*), "
               "sum(m.first_response_at IS NOT NULL), sum(m.risk_flags NOT IN ('[]', '')) "
               f"FROM mentions m WHERE {where} GROUP BY 1, 2, 4")
    return db.execute(sql, params).fetchall()


def hourly_risk(db: Database, scope: StatsScope, *, rollup: bool | None = None) -> list[RiskRow]:
    """Mentions carrying each risk-flag kind per UTC hour, channel and account (a mention counts once per kind)."""
    params: list[Any] = []
    if _use_rollup(scope, rollup):
        where = _rollup_where(scope, params)
        sql = ("SELECT hour, platform, '', kind, sum(n) FROM dash_risk_hourly h "
               f"WHERE {where} GROUP BY hour, platform, kind HAVING sum(n) > 0")
    else:
        where = _mention_where(scope, params)
        sql = ("SELECT hour, platform, '', kind, count(DISTINCT rid) FROM ("
               "SELECT substr(m.created_at, 1, 13) AS hour, m.platform, m.account, m.rowid AS rid, "
               f"{RISK_KIND} AS kind FROM mentions m, {RISK_FLAGS_EACH} "
               f"WHERE m.risk_flags NOT IN ('[]', '') AND {where}) WHERE kind IS NOT NULL GROUP BY 1, 2, 4")
    return db.execute(sql, params).fetchall()


def responses(db: Database, scope: StatsScope, *, plain: bool = False) -> list[ResponseRow]:
    """Answered mentions of the scope: created and first-response instants, channel, account, responder.

    The responder is the author of the first reply sent from Parvis, else the assignee. Read from
    ``dash_responses`` (kept by triggers, m061); ``plain=True`` computes the same rows from the mentions.
    """
    if plain:
        params: list[Any] = []
        sql = ("SELECT unixepoch(m.created_at), unixepoch(m.first_response_at), m.platform, m.account, "
               "COALESCE(fr.agent_id, m.assigned_to) FROM mentions m "
               "LEFT JOIN first_responses fr ON fr.mention_uid = m.uid "
               f"WHERE m.first_response_at IS NOT NULL AND {_mention_where(scope, params)}")
        return db.execute(sql, params).fetchall()
    lo, hi = scope.hour_bounds
    params = [int(datetime.fromisoformat(lo + ":00:00+00:00").timestamp()),
                         int(datetime.fromisoformat(hi + ":00:00+00:00").timestamp())]
    clauses = ["r.created_s >= ?", "r.created_s < ?", *_channel_where(scope, "r", params)]
    clauses += [_tag_clause("r.mention_uid", group, params) for group in scope.tag_groups]
    sql = ("SELECT created_s, responded_s, platform, account, agent_id FROM dash_responses r "
           f"WHERE {' AND '.join(clauses)}")
    return db.execute(sql, params).fetchall()


def backlog(db: Database, scope: StatsScope, *, exact_since: datetime) -> list[BacklogRow]:
    """Open mentions created before ``scope.until`` (any age): (status, created epoch s, count, unanswered).

    Mentions created since ``exact_since`` come one by one; older ones are counted per status and UTC day
    (``created`` is then that day's 00:00 UTC), which keeps the page fast when old items are never closed.
    """
    out: list[BacklogRow] = []
    cut = to_iso(exact_since)
    for older in (False, True):
        params: list[Any] = [scope.hour_bounds[1], cut]
        where = _mention_where(scope, params, window=False)
        if older:
            sql = ("SELECT m.status, unixepoch(substr(m.created_at, 1, 10)), count(*), "
                   "sum(m.first_response_at IS NULL) FROM mentions m "
                   f"WHERE m.status IN {_OPEN} AND m.created_at < ? AND m.created_at < ? AND {where} "
                   "GROUP BY m.status, substr(m.created_at, 1, 10)")
        else:
            sql = ("SELECT m.status, unixepoch(m.created_at), 1, m.first_response_at IS NULL FROM mentions m "
                   f"WHERE m.status IN {_OPEN} AND m.created_at < ? AND m.created_at >= ? AND {where}")
        out += db.execute(sql, params).fetchall()
    return out


def channels(db: Database) -> list[tuple[str, str]]:
    """Every (platform, account) that has mentions, for the filter lists."""
    return [tuple(r) for r in db.execute(
        "SELECT platform, account FROM dash_hourly GROUP BY platform, account HAVING sum(n) > 0 ORDER BY 1, 2")]


def window_texts(db: Database, scope: StatsScope, *, limit: int) -> list[dict[str, Any]]:
    """The newest mentions of the scope with their text and author (for topics and the FAQ), at most ``limit``.
    Private messages are never among them: their words stay out of topics, FAQ and reports (issue #20)."""
    params: list[Any] = []
    where = _mention_where(scope, params)
    cols = ("uid", "platform", "account", "author_handle", "author_name", "text", "created_at", "status", "hidden",
            "deleted_at")
    sql = (f"SELECT {', '.join('m.' + c for c in cols)} FROM mentions m WHERE {where} "
           f"AND m.kind != '{PRIVATE_KIND}' ORDER BY m.created_at DESC LIMIT ?")
    return [dict(zip(cols, r, strict=True)) for r in db.execute(sql, [*params, limit])]


def sent_replies(db: Database, uids: Sequence[str]) -> list[dict[str, Any]]:
    """Replies sent from Parvis to these mentions (body without signature), oldest first; never the answers to
    private messages."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(uids), 500):
        chunk = list(uids[start:start + 500])
        rows = db.execute("SELECT mention_uid, body, author_id, COALESCE(sent_at, updated_at) FROM drafts "
                          f"WHERE state = 'sent' AND mention_uid IN ({','.join('?' * len(chunk))}) "
                          f"AND mention_uid NOT IN (SELECT uid FROM mentions WHERE kind = '{PRIVATE_KIND}') "
                          "ORDER BY COALESCE(sent_at, updated_at)", chunk).fetchall()
        out += [{"mention_uid": r[0], "body": r[1], "author_id": r[2], "sent_at": r[3]} for r in rows]
    return out


def audit_counts(db: Database, since: datetime, until: datetime) -> list[tuple[str, int]]:
    """Audit events per name recorded in [since, until)."""
    return [tuple(r) for r in db.execute(
        "SELECT event, count(*) FROM audit_log WHERE at >= ? AND at < ? GROUP BY event ORDER BY 2 DESC, 1",
        (to_iso(since), to_iso(until)))]


def published(db: Database, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Messages published through Parvis in [since, until) from the legal archive, with their stored payload;
    never the private answers (archive kind ``private_reply``: counted apart, :func:`private_counts`)."""
    cols = ("kind", "platform", "account", "text", "permalink", "published_at", "payload")
    rows = db.execute(f"SELECT {', '.join(cols)} FROM archive_messages WHERE published_at >= ? AND published_at < ? "
                      "AND kind != 'private_reply' ORDER BY published_at", (to_iso(since), to_iso(until))).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def private_counts(db: Database, since: datetime, until: datetime) -> dict[str, int]:
    """Private messages received in [since, until) and private answers archived then: counts, never texts."""
    received = db.execute(f"SELECT count(*) FROM mentions WHERE kind = '{PRIVATE_KIND}' AND created_at >= ? "
                          "AND created_at < ?", (to_iso(since), to_iso(until))).fetchone()[0]
    answered = db.execute("SELECT count(*) FROM archive_messages WHERE kind = 'private_reply' AND published_at >= ? "
                          "AND published_at < ?", (to_iso(since), to_iso(until))).fetchone()[0]
    return {"received": int(received), "answered": int(answered)}


def rebuild_rollups(db: Database) -> None:
    """Recompute the dashboard roll-ups from scratch (repair; the triggers keep them exact otherwise)."""
    rebuild_dashboard_rollups(db)
    rebuild_dashboard_responses(db)


# ---- benchmark setup only -------------------------------------------------------------------------------

BENCH_MENTION_COLS = ("uid", "platform", "platform_id", "account", "author_id", "author_handle", "text",
                      "created_at", "ingested_at", "updated_at", "status", "assigned_to", "sentiment",
                      "sentiment_confidence", "risk_score", "risk_flags", "priority", "first_response_at")


def bench_insert(db: Database, mentions: Iterable[Sequence[Any]], drafts: Iterable[Sequence[Any]],
                 tags: Iterable[tuple[str, str]] = ()) -> None:
    """Benchmark setup only: insert full mention rows (BENCH_MENTION_COLS), sent replies and tags in bulk.

    Draft rows are ``(mention_uid, author_id, body, platform, sent_at)``.
    """
    rows = list(mentions)
    keys = free_mention_keys(db, [mention_keys.block_start(from_iso(r[7]) or datetime.now(UTC)) for r in rows])
    cols = ", ".join(BENCH_MENTION_COLS)
    ordered = sorted(((k, *r) for k, r in zip(keys, rows, strict=True)), key=lambda row: row[0])
    db.conn.executemany(f"INSERT INTO mentions (rowid, {cols}) VALUES (?, {', '.join('?' * len(BENCH_MENTION_COLS))})",
                        ordered)
    db.conn.executemany(
        "INSERT INTO drafts (mention_uid, author_id, body, signed_text, platform, state, created_at, updated_at, "
        "sent_at) VALUES (?1, ?2, ?3, ?3, ?4, 'sent', ?5, ?5, ?5)", drafts)
    db.conn.executemany("INSERT OR IGNORE INTO mention_tags (mention_uid, tag) VALUES (?, ?)", tags)


def flags_json(kinds: Sequence[str]) -> str:
    """Benchmark setup only: a risk_flags value with these kinds."""
    return json.dumps([{"kind": k, "score": 0.9, "spans": []} for k in kinds])
