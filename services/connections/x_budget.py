"""X usage budget: count every billable X call per month, estimate its cost, and stop at a monthly cap.

Prices (USD) are a table with documented defaults taken from X's pay-per-usage page
(docs.x.com/x-api/getting-started/pricing, read in November 2026): they change, so an administrator must check
them against the Developer Console and override them with ``PARVIS_X_PRICE_<KIND>`` settings. Counts are an
upper estimate: X deduplicates a post read twice in the same UTC day, Parvis counts it twice.

``PARVIS_X_MONTHLY_CAP_USD`` (unset or 0: no cap) and ``PARVIS_X_CAP_POLICY``: ``stop_polling`` (default: when
the cap is reached, reading stops and replies/posts still go out) or ``stop_writes`` (reading goes on, writes
stop). The connector is wired with :func:`wire`; the "Connexions" page shows :func:`budget_status`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from connectors.x.usage import READS, Billable
from core.clock import utcnow
from core.config import Settings
from core.errors import BudgetExceeded
from core.repo import usage as usage_repo
from core.settings_schema import X_PRICE, XBudgetSettings

DEFAULT_PRICES: Mapping[Billable, float] = {
    Billable.POST_READ: 0.005,  # "Posts: Read", per post returned
    Billable.USER_READ: 0.010,  # "User: Read", per user returned
    Billable.CREATE: 0.015,  # "Content: Create", per request
    Billable.CREATE_URL: 0.200,  # "Content: Create (with URL)", per request
    Billable.DELETE: 0.010,  # "Interaction: Delete", per request
    Billable.MANAGE: 0.005,  # "Content: Manage" (hide/unhide a reply), per request
}
POLICIES = ("stop_polling", "stop_writes")
PRICE_KEYS = tuple(X_PRICE.key_for(kind) for kind in Billable)
SETTINGS_KEYS = (*XBudgetSettings.all_keys(), *PRICE_KEYS)


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetConfig:
    """Prices, monthly cap (None: none) and what stops when the cap is reached."""

    prices: Mapping[Billable, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    cap_usd: float | None = None
    policy: str = "stop_polling"

    def blocks(self, kind: Billable) -> bool:
        """Whether calls of ``kind`` stop once the cap is reached."""
        return (kind in READS) if self.policy == "stop_polling" else (kind not in READS)


def config_from_settings(source: Settings | Callable[[str], Any]) -> BudgetConfig:
    """Read the cap, the policy and the price overrides from settings (or a ``get(key)`` of raw values)."""
    budget = Settings.coerce(source).x_budget
    prices = {kind: DEFAULT_PRICES[kind] if (price := budget.price_usd(kind)) is None else price for kind in Billable}
    return BudgetConfig(prices=prices, cap_usd=budget.monthly_cap_usd or None, policy=budget.cap_policy)


def _next_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year + mon // 12}-{mon % 12 + 1:02d}-01"


class XBudget:
    """The usage hook and budget gate given to one X connector (account ``account``)."""

    def __init__(self, db: Database, *, account: str, config: BudgetConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.account, self.config, self._clock = db, account, config, clock

    def record(self, kind: Billable, units: int) -> None:
        """Usage hook: add ``units`` of ``kind`` at the configured price."""
        price = self.config.prices.get(kind, 0.0)
        usage_repo.add_usage(self.db, account=self.account, kind=str(kind), units=units, cost_usd=price * units,
                             at=self._clock())

    def spent(self) -> float:
        """Estimated spend of the current month (all X accounts: X bills the app)."""
        return usage_repo.month_cost(self.db, usage_repo.month_of(self._clock()))

    def gate(self, kind: Billable) -> None:
        """Budget gate: raise :class:`BudgetExceeded` when the cap is reached and the policy stops ``kind``."""
        cap = self.config.cap_usd
        if cap is None or not self.config.blocks(kind):
            return
        spent = self.spent()
        if spent >= cap:
            month = usage_repo.month_of(self._clock())
            what = "polling stopped, replies still sent" if self.config.policy == "stop_polling" else (
                "replies and posts stopped, polling goes on")
            raise BudgetExceeded(f"X monthly budget reached (budget atteint): {spent:.2f} of {cap:.2f} USD in "
                                 f"{month}; {what} until {_next_month(month)}", reason="x_budget_reached",
                                 spent=f"{spent:.2f}", cap=f"{cap:.2f}", month=month, policy=self.config.policy,
                                 until=_next_month(month))


def wire(connector: Any, db: Database, settings: Settings | Callable[[str], Any], *,
         clock: Callable[[], datetime] = utcnow) -> XBudget:
    """Give an X connector its usage hook and budget gate (call once after building it)."""
    budget = XBudget(db, account=connector.name, config=config_from_settings(settings), clock=clock)
    connector.usage_hook = budget.record
    connector.budget_gate = budget.gate
    return budget


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetStatus:
    """What the "Connexions" page shows for X usage this month."""

    month: str
    rows: tuple[usage_repo.UsageRow, ...]
    spent_usd: float
    cap_usd: float | None
    policy: str
    reached: bool

    @property
    def label(self) -> str:
        """French one-line summary for the page."""
        text = f"Usage X de {self.month} : {self.spent_usd:.2f} $ estimés"
        if self.cap_usd is None:
            return text + " (aucun plafond)"
        text += f" sur un plafond de {self.cap_usd:.2f} $"
        if self.reached:
            stopped = "relève arrêtée, les réponses partent encore" if self.policy == "stop_polling" else (
                "réponses et publications arrêtées, la relève continue")
            text += f" — budget atteint : {stopped}"
        return text


def budget_status(db: Database, settings: Settings | Callable[[str], Any], *,
                  now: datetime | None = None) -> BudgetStatus:
    """This month's X usage by kind, estimated cost, cap and whether it is reached."""
    config = config_from_settings(settings)
    month = usage_repo.month_of(now or datetime.now(UTC))
    rows = tuple(usage_repo.month_usage(db, month))
    spent = sum(r.cost_usd for r in rows)
    return BudgetStatus(month=month, rows=rows, spent_usd=spent, cap_usd=config.cap_usd, policy=config.policy,
                        reached=config.cap_usd is not None and spent >= config.cap_usd)
