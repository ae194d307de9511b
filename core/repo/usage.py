"""DML for pay-per-use API counters (table ``x_usage``, migration m070): add usage, read a month's totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from core.clock import to_iso
from core.db import write_transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRow:
    """One month's usage of one kind on one account."""

    month: str  # "YYYY-MM" (UTC)
    account: str
    kind: str
    units: int
    calls: int
    cost_usd: float


def month_of(at: datetime) -> str:
    """The billing month ``YYYY-MM`` of an aware datetime (UTC, as X bills)."""
    return to_iso(at)[:7]


def add_usage(db: Database, *, account: str, kind: str, units: int, cost_usd: float, at: datetime) -> None:
    """Add ``units`` (one call) of ``kind`` to the month of ``at``."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO x_usage (month, account, kind, units, calls, cost_usd, updated_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT (month, account, kind) DO UPDATE SET units = units + excluded.units, "
            "calls = calls + 1, cost_usd = cost_usd + excluded.cost_usd, updated_at = excluded.updated_at",
            [month_of(at), account, kind, int(units), float(cost_usd), to_iso(at)])


def month_usage(db: Database, month: str, *, account: str | None = None) -> list[UsageRow]:
    """Every kind used in ``month`` (optionally for one account), largest cost first."""
    sql = "SELECT month, account, kind, units, calls, cost_usd FROM x_usage WHERE month = ?"
    params: list[str] = [month]
    if account is not None:
        sql += " AND account = ?"
        params.append(account)
    rows = db.execute(sql + " ORDER BY cost_usd DESC, kind", params).fetchall()
    return [UsageRow(month=r[0], account=r[1], kind=r[2], units=int(r[3]), calls=int(r[4]), cost_usd=float(r[5]))
            for r in rows]


def month_cost(db: Database, month: str, *, account: str | None = None) -> float:
    """Estimated spend of ``month`` in USD (optionally for one account)."""
    return sum(row.cost_usd for row in month_usage(db, month, account=account))
