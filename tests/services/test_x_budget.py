"""X usage budget: every billable call counted with its price, and the monthly cap stops what the policy says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.x.connector import XConnector
from connectors.x.usage import Billable, has_link, read_units
from core.errors import BudgetExceeded, ConfigError
from core.repo import usage as usage_repo
from services.connections.ingest import sync_connector
from services.connections.x_budget import budget_status, config_from_settings, wire
from tests.connectors.conftest import X_KEYS
from tests.fakes import FakeXApi

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_x(httpserver) -> FakeXApi:
    fake = FakeXApi()
    fake.base_url = fake.install(httpserver)  # type: ignore[attr-defined]
    for i in range(3):
        fake.add_tweet(f"@VilleDeTest question {i}")
    return fake


def connect(fake: FakeXApi, db, **settings: str) -> XConnector:
    connector = XConnector(bearer_token=fake.bearer, user_id=fake.user_id, base_url=fake.base_url, backoff=0,
                           **X_KEYS)
    wire(connector, db, settings.get, clock=lambda: NOW)
    return connector


def usage(db) -> dict[str, tuple[int, float]]:
    return {r.kind: (r.units, round(r.cost_usd, 4)) for r in usage_repo.month_usage(db, "2026-11")}


def test_reads_and_writes_are_counted_at_the_default_prices(db, fake_x):
    connector = connect(fake_x, db)
    mention = connector.fetch(None).mentions[0]
    connector.reply(mention, "Merci, c'est noté.")
    connector.publish("Le programme : https://ville-test.fr/noel")
    assert usage(db) == {"post_read": (3, 0.015), "user_read": (1, 0.01), "create": (1, 0.015),
                         "create_url": (1, 0.2)}
    assert usage_repo.month_cost(db, "2026-11") == pytest.approx(0.24)


def test_price_overrides_apply(db, fake_x):
    connector = connect(fake_x, db, PARVIS_X_PRICE_POST_READ="0.01")
    connector.fetch(None)
    assert usage(db)["post_read"] == (3, 0.03)


def test_stop_polling_stops_reads_but_lets_replies_out(db, fake_x):
    connector = connect(fake_x, db, PARVIS_X_MONTHLY_CAP_USD="0.02")
    mention = connector.fetch(None).mentions[0]  # 0.025 USD: the cap is now reached
    before = len(fake_x.calls("/mentions"))
    with pytest.raises(BudgetExceeded, match="budget atteint"):
        connector.fetch(None)
    assert len(fake_x.calls("/mentions")) == before  # nothing was sent
    assert connector.reply(mention, "Merci !").platform_id
    status = budget_status(db, {"PARVIS_X_MONTHLY_CAP_USD": "0.02"}.get, now=NOW)
    assert status.reached and "budget atteint" in status.label and "réponses partent encore" in status.label


def test_stop_writes_keeps_polling(db, fake_x):
    connector = connect(fake_x, db, PARVIS_X_MONTHLY_CAP_USD="0.02", PARVIS_X_CAP_POLICY="stop_writes")
    mention = connector.fetch(None).mentions[0]
    with pytest.raises(BudgetExceeded):
        connector.reply(mention, "Merci !")
    assert not fake_x.posted
    connector.fetch(None)  # reading goes on


def test_the_sync_reports_the_budget_on_the_connector(db, fake_x):
    connector = connect(fake_x, db, PARVIS_X_MONTHLY_CAP_USD="0.01")
    usage_repo.add_usage(db, account="x", kind="post_read", units=2, cost_usd=0.01, at=NOW)
    result = sync_connector(db, connector, now=NOW)
    assert result.error_code == "budget_exceeded" and "budget atteint" in result.error


def test_no_cap_never_blocks_and_a_new_month_starts_at_zero(db):
    usage_repo.add_usage(db, account="x", kind="create_url", units=1, cost_usd=0.2, at=NOW)
    assert not budget_status(db, {}.get, now=NOW).reached
    assert budget_status(db, {}.get, now=datetime(2026, 12, 1, tzinfo=UTC)).spent_usd == 0


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError):
        config_from_settings({"PARVIS_X_CAP_POLICY": "stop_everything"}.get)
    with pytest.raises(ConfigError):
        config_from_settings({"PARVIS_X_MONTHLY_CAP_USD": "cinquante"}.get)


def test_link_detection_and_read_units():
    assert has_link("Infos sur ville-test.fr/travaux") and has_link("https://t.co/x") and has_link("www.a.b")
    assert not has_link("Rendez-vous à 10 h. Merci !")
    page = {"data": [{}, {}], "includes": {"users": [{}], "tweets": [{}]}}
    assert read_units(page) == {Billable.POST_READ: 3, Billable.USER_READ: 1}
