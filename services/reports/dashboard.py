"""The "Tableau de bord": volumes, share answered, response times in opening hours, backlog, sentiment, risk, crises.

:func:`load_dashboard` returns everything the page shows in one call; :meth:`Dashboard.tables` gives each chart's
data as a list of dicts (the "download data (CSV)" buttons, see :func:`to_csv`). Definitions are in
docs/dashboard.md. Days are Europe/Paris calendar days; the window is [since, until).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlite_utils import Database

from core import csv_safe, repo
from core.clock import PARIS
from core.errors import ConfigError
from core.repo import stats as stats_repo
from core.repo.stats import StatsScope
from core.settings_schema import DashboardSettings, InboxSettings
from services.inbox.opening_hours import OpeningHours
from services.reports.metrics import (
    AGE_BUCKETS,
    NEGATIVE,
    crisis_periods,
    response_summary,
    sentiment_key,
)

DEFAULT_DAYS = 30
BACKLOG_EXACT = timedelta(days=8)  # older open items are counted per day (they are all "> 7 j" and overdue)


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardConfig:
    """Targets and calendars: response target (opening hours), crisis rule, services mapped to tags."""

    target_h: float = 4.0
    hours: OpeningHours = field(default_factory=OpeningHours)
    crisis_multiple: float = 3.0
    crisis_min_alerts: int = 10
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> DashboardConfig:
        """``PARVIS_RESPONSE_TARGET_H``, opening hours, ``PARVIS_CRISIS_MULTIPLE``/``_MIN_ALERTS``, services."""
        target = settings.inbox.response_target_h
        if target <= 0:
            raise ConfigError(f"{InboxSettings.key('response_target_h')} must be positive, got {target}")
        return cls(target_h=target, hours=OpeningHours.from_settings(settings),
                   crisis_multiple=settings.crisis.multiple, crisis_min_alerts=settings.crisis.min_alerts,
                   services=parse_services(settings.dashboard.services))

    def service_tags(self, name: str) -> tuple[str, ...]:
        """The tags that put a mention in municipal service ``name`` (default: ``name`` or ``service:name``)."""
        return self.services.get(name) or (name, f"service:{name}")


def parse_services(spec: str) -> dict[str, tuple[str, ...]]:
    """``"Voirie=voirie,nids-de-poule; Propreté=propreté,encombrants"`` -> {service: tags}."""
    out: dict[str, tuple[str, ...]] = {}
    for chunk in filter(None, (c.strip() for c in spec.split(";"))):
        name, sep, tags = chunk.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{DashboardSettings.key('services')}: cannot read {chunk!r} "
                              "(expected Service=tag1,tag2)")
        out[name.strip()] = tuple(t.strip() for t in tags.split(",") if t.strip())
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardFilters:
    """What the page's filters select. ``since``/``until`` default to the last 30 Paris days, today included."""

    since: datetime | None = None
    until: datetime | None = None
    platforms: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    service: str | None = None


def paris_midnight(day: date) -> datetime:
    """00:00 in Paris on ``day``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """The window covering Paris days ``first``..``last`` inclusive: [since, until) in UTC."""
    if last < first:
        raise ValueError(f"period ends ({last}) before it starts ({first})")
    return paris_midnight(first), paris_midnight(last + timedelta(days=1))


def default_period(now: datetime, days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:
    """The last ``days`` Paris days, today included."""
    today = now.astimezone(PARIS).date()
    return period(today - timedelta(days=days - 1), today)


def scope_for(filters: DashboardFilters, config: DashboardConfig, *, now: datetime) -> StatsScope:
    """Resolve the filters (default period, service -> tags) into a storage scope."""
    since, until = default_period(now)
    groups = []
    if filters.tags:
        groups.append(tuple(filters.tags))
    if filters.service:
        groups.append(config.service_tags(filters.service))
    return StatsScope(since=filters.since or since, until=filters.until or until, platforms=filters.platforms,
                      accounts=filters.accounts, tag_groups=tuple(groups))


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    """Everything the "Tableau de bord" shows for one selection; each list is one chart's data."""

    since: datetime
    until: datetime
    generated_at: datetime
    target_h: float
    totals: dict[str, Any]
    volume: list[dict[str, Any]]  # day, channel, mentions, answered
    answered_by_channel: list[dict[str, Any]]  # channel, mentions, answered, share_answered
    response_by_channel: list[dict[str, Any]]  # channel, answered, median_h, p90_h, within_target, ...
    response_by_agent: list[dict[str, Any]]  # agent_id, agent, answered, median_h, p90_h, within_target, ...
    backlog: list[dict[str, Any]]  # status, age, mentions, overdue
    sentiment: list[dict[str, Any]]  # day, sentiment, mentions
    risk: list[dict[str, Any]]  # day, kind, mentions
    crises: list[dict[str, Any]]  # start, end, hours, alerts, peak_at, peak_alerts, usual_per_hour
    days: list[dict[str, Any]]  # day, mentions, answered, negative, flagged, alerts, crisis

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Each chart's data by name, for the CSV download buttons."""
        return {"volume": self.volume, "reponses_par_canal": self.answered_by_channel,
                "delais_par_canal": self.response_by_channel, "delais_par_agent": self.response_by_agent,
                "backlog": self.backlog, "sentiment": self.sentiment, "risques": self.risk,
                "crises": self.crises, "jours": self.days}


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV text (header from the first row's keys; datetimes in ISO; formula cells neutralised)."""
    out = io.StringIO()
    if rows:
        writer = csv_safe.dict_writer(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in row.items()})
    return out.getvalue()


def _paris_day(hour: str) -> date:
    return datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC).astimezone(PARIS).date()


def _codes(values: Sequence[Any], key: Any = None) -> tuple[list[Any], Any]:
    """Distinct values (through ``key``) and each row's index into them, as a numpy array."""
    import numpy as np

    distinct = {v: None for v in values}
    keyed = {v: (key(v) if key else v) for v in distinct}
    labels = sorted(set(keyed.values()), key=str)
    index = {label: i for i, label in enumerate(labels)}
    lookup = {v: index[k] for v, k in keyed.items()}
    return labels, np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))


def _aggregate(rows: Sequence[stats_repo.HourRow], risk: Sequence[stats_repo.RiskRow], since: datetime,
               until: datetime) -> dict[str, Any]:
    """Hourly roll-up rows -> per Paris day and channel, sentiment, risk kind; alerts per hour (numpy)."""
    import numpy as np

    first, last = since.astimezone(PARIS).date(), (until - timedelta(microseconds=1)).astimezone(PARIS).date()
    window = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    hours, platforms, sentiments, n, answered, flagged = (
        ([], [], [], [], [], []) if not rows else [list(c) for c in zip(*[(r[0], r[1], r[3], r[4], r[5], r[6])
                                                                           for r in rows], strict=True)])
    risk_hours = [r[0] for r in risk]
    day_of = {h: _paris_day(h) for h in {*hours, *risk_hours}}
    days = sorted({*window, *day_of.values()})
    day_index = {d: i for i, d in enumerate(days)}
    hour_labels, hour_code = _codes(hours)
    day_code = np.array([day_index[day_of[h]] for h in hour_labels], dtype=np.int64)[hour_code] if rows else \
        np.zeros(0, dtype=np.int64)
    channel_labels, channel_code = _codes(platforms)
    sentiment_labels, sentiment_code = _codes(sentiments, sentiment_key)
    n_, a_, f_ = (np.array(x, dtype=np.int64) for x in (n, answered, flagged))
    negative = np.isin(sentiment_code, [i for i, k in enumerate(sentiment_labels) if k == NEGATIVE])
    alerts = np.where(negative, n_, f_)
    nd, nc, ns = len(days), max(1, len(channel_labels)), max(1, len(sentiment_labels))

    def count(codes: Any, size: int, weights: Any) -> Any:
        return np.bincount(codes, weights=weights, minlength=size).astype(np.int64)

    vol = count(day_code * nc + channel_code, nd * nc, n_).reshape(nd, nc)
    ans = count(day_code * nc + channel_code, nd * nc, a_).reshape(nd, nc)
    sent = count(day_code * ns + sentiment_code, nd * ns, n_).reshape(nd, ns)
    per_day = {name: count(day_code, nd, w) for name, w in (("mentions", n_), ("answered", a_),
                                                             ("negative", np.where(negative, n_, 0)),
                                                             ("flagged", f_), ("alerts", alerts))}
    per_hour = count(hour_code, len(hour_labels), alerts) if rows else []
    risk_cells: dict[tuple[date, str], int] = defaultdict(int)
    for hour, _platform, _account, kind, k in risk:
        risk_cells[(day_of[hour], kind)] += k
    return {
        "volume": [{"day": days[d], "channel": channel_labels[c], "mentions": int(vol[d, c]),
                    "answered": int(ans[d, c])} for d, c in zip(*np.nonzero(vol), strict=True)],
        "by_channel": [{"channel": c, "mentions": int(vol[:, i].sum()), "answered": int(ans[:, i].sum()),
                        "share_answered": round(int(ans[:, i].sum()) / int(vol[:, i].sum()), 4)
                        if vol[:, i].sum() else None} for i, c in enumerate(channel_labels)],
        "sentiment": [{"day": days[d], "sentiment": sentiment_labels[s], "mentions": int(sent[d, s])}
                      for d, s in zip(*np.nonzero(sent), strict=True)],
        "days": [{"day": day, **{k: int(v[i]) for k, v in per_day.items()}} for i, day in enumerate(days)],
        "risk": [{"day": d, "kind": k, "mentions": v} for (d, k), v in sorted(risk_cells.items())],
        "alerts": {h: int(per_hour[i]) for i, h in enumerate(hour_labels) if per_hour[i]},
    }


def _backlog(rows: Sequence[stats_repo.BacklogRow], config: DashboardConfig, now: datetime) -> list[dict[str, Any]]:
    if not rows:
        return []
    import numpy as np

    statuses = np.array([r[0] for r in rows], dtype=object)
    created = np.array([r[1] for r in rows], dtype=float)
    weight = np.array([r[2] for r in rows], dtype=float)
    unanswered = np.array([r[3] for r in rows], dtype=float)
    ref = now.timestamp()
    clock = config.hours.clock(datetime.fromtimestamp(float(created.min()), UTC), now)
    overdue = clock.elapsed(created, np.full(len(created), ref)) / 3600 > config.target_h
    bucket = np.searchsorted(np.array([upper for _, upper in AGE_BUCKETS]), (ref - created) / 3600, side="right")
    out = []
    for status in sorted(set(statuses.tolist())):
        mask = statuses == status
        counts = np.bincount(bucket[mask], weights=weight[mask], minlength=len(AGE_BUCKETS))
        late = np.bincount(bucket[mask], weights=unanswered[mask] * overdue[mask], minlength=len(AGE_BUCKETS))
        out += [{"status": status, "age": label, "mentions": int(counts[i]), "overdue": int(late[i])}
                for i, (label, _) in enumerate(AGE_BUCKETS) if counts[i]]
    return out


def load_dashboard(db: Database, filters: DashboardFilters, config: DashboardConfig, *,
                   now: datetime) -> Dashboard:
    """Every figure and chart of the dashboard for ``filters`` (one call; see docs/dashboard.md)."""
    scope = scope_for(filters, config, now=now)
    agg = _aggregate(stats_repo.hourly(db, scope), stats_repo.hourly_risk(db, scope), scope.since, scope.until)
    volume, by_channel, sentiment, days, risk = (agg[k] for k in ("volume", "by_channel", "sentiment", "days", "risk"))
    crises = crisis_periods(agg["alerts"], since=scope.since, until=min(scope.until, max(now, scope.since)),
                            multiple=config.crisis_multiple, min_alerts=config.crisis_min_alerts)
    crisis_days = {d for c in crises for d in _days_between(c["start"], c["end"])}
    for row in days:
        row["crisis"] = row["day"] in crisis_days
    agents = {a.id: a.name for a in repo.list_agents(db, active_only=False)}
    summary = response_summary(stats_repo.responses(db, scope), config, agents)
    backlog = _backlog(stats_repo.backlog(db, scope, exact_since=now - BACKLOG_EXACT), config, now)
    total = sum(r["mentions"] for r in by_channel)
    answered = sum(r["answered"] for r in by_channel)
    totals = {
        "mentions": total, "answered": answered, "share_answered": round(answered / total, 4) if total else None,
        **summary["overall"],
        "open_backlog": sum(r["mentions"] for r in backlog), "overdue": sum(r["overdue"] for r in backlog),
        "negative": sum(d["negative"] for d in days), "flagged": sum(d["flagged"] for d in days),
        "crises": len(crises),
    }
    return Dashboard(since=scope.since, until=scope.until, generated_at=now, target_h=config.target_h,
                     totals=totals, volume=volume, answered_by_channel=by_channel,
                     response_by_channel=summary["by_channel"], response_by_agent=summary["by_agent"],
                     backlog=backlog, sentiment=sentiment, risk=risk, crises=crises, days=days)


def _days_between(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(PARIS).date(), (end - timedelta(seconds=1)).astimezone(PARIS).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def filter_choices(db: Database) -> dict[str, list[str]]:
    """Values for the page's filter widgets: channels, accounts, tags."""
    pairs = stats_repo.channels(db)
    return {"platforms": sorted({p for p, _ in pairs}), "accounts": sorted({a for _, a in pairs if a}),
            "tags": repo.all_tags(db)}
