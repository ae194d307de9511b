"""The Calendrier page through Streamlit's AppTest: access by role, write → submit → approve by another person →
scheduled in the week view, the daylight-saving gap refused in French, cancel, retry after a failure, settle
"à vérifier"."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core.clock import PARIS, utcnow
from core.models import DraftState, Platform, TargetState
from core.repo import posts as posts_repo
from services.editorial import calendar, post_review, recurrence
from services.publishing.content import PublishPolicy
from services.publishing.posts import Publisher
from tests.publishing.fakes import FakeClock, FakePlatform

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
PAGE = "console/ui/pages/calendar.py"
S, T = DraftState, TargetState
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def app(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(db_path.parent))
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def open_as(app: AppTest, agent) -> AppTest:
    app.run()
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def as_agent(app: AppTest, agent) -> AppTest:
    app.selectbox(key="sidebar_agent").select(agent.id).run()
    assert not app.exception, app.exception
    return app


def unescape(text: str) -> str:
    """Messages are Markdown-escaped (they may quote user input): read them as displayed."""
    return text.replace("\\", "")


def errors(app: AppTest) -> list[str]:
    return [unescape(e.value) for e in app.error]


def tomorrow() -> date:
    return utcnow().astimezone(PARIS).date() + timedelta(days=1)


def spring_forward_after(day: date) -> date:
    """The next last Sunday of March (02:00-02:59 does not exist in Paris)."""
    year = day.year if day < date(day.year, 3, 20) else day.year + 1
    last = date(year, 3, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def fall_back_after(day: date) -> date:
    """The next last Sunday of October (02:00-02:59 happens twice in Paris)."""
    year = day.year if day < date(day.year, 10, 20) else day.year + 1
    last = date(year, 10, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def table(app: AppTest, key: str):
    """The selectable table ``key`` (its widget key ends with a digest of its rows: console/ui/calendar/common.py)."""
    found = {str(f.key).rsplit("-", 1)[0]: f.value for f in app.dataframe if f.key}
    assert key in found, sorted(map(str, found))
    return found[key]


def table_with(app: AppTest, column: str):
    """The first table that has ``column`` (tables without selection carry no key)."""
    return next(f.value for f in app.dataframe if column in f.value.columns)


def approved_post(db, agents, *, text: str, at: datetime, accounts=("fake",)):
    post = calendar.create_post(db, agents["julie"], text=text, accounts=list(accounts), at=at, now=utcnow(),
                                platforms=dict.fromkeys(accounts, Platform.DEMO))
    post_review.submit_post(db, agents["julie"], post.id, now=utcnow())
    return post_review.approve_post(db, agents["sophie"], post.id, now=utcnow())


@pytest.mark.parametrize("who", ["julie", "sophie"])
def test_page_renders_for_writers(app, agents, who):
    open_as(app, agents[who])
    assert app.title[0].value == "Calendrier"
    assert [t.label for t in app.tabs][:4] == ["Calendrier", "File d'attente (0 à traiter)", "Nouvelle publication",
                                               "Publications récurrentes"]
    assert not errors(app)


@pytest.mark.parametrize("who", ["marc", "admin"])
def test_other_roles_do_not_see_it_and_get_a_clear_refusal(db_path, agents, monkeypatch, who):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    open_as_page = app.run()
    app.selectbox(key="sidebar_agent").select(agents[who].id).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_as_page.switch_page(PAGE)
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)  # reached by its address anyway
    page.session_state[AGENT_KEY] = agents[who].id
    page.run()
    assert not page.exception
    assert any("réservé aux community managers" in e.value for e in page.error)
    assert not page.tabs and not page.button and not page.dataframe


def test_create_submit_approve_then_scheduled_in_the_week_view(app, db, agents):
    day = tomorrow()
    open_as(app, agents["julie"])
    app.multiselect(key="calendar_new_accounts").select("demo").run()
    app.text_area(key="calendar_new_text").input("Collecte des encombrants lundi dans le quartier Nord.")
    app.text_area(key="calendar_new_variant_demo").input("Encombrants : lundi, quartier Nord.")
    app.file_uploader(key="calendar_new_images_0").set_value(("benne.png", PNG, "image/png")).run()
    app.date_input(key="calendar_new_date").set_value(day)
    app.time_input(key="calendar_new_time").set_value(time(9, 30))
    app.button(key="calendar_create").click().run()
    assert any("texte alternatif" in e for e in errors(app)), errors(app)  # RGAA: alt text is mandatory
    assert posts_repo.posts_in_states(db, list(S)) == []
    app.text_input(key="calendar_new_alt_0_0").input("Une benne devant la mairie").run()
    app.button(key="calendar_create").click().run()
    assert not errors(app), errors(app)
    [post] = posts_repo.posts_in_states(db, list(S))
    assert post.state is S.DRAFT and post.variants == {"demo": "Encombrants : lundi, quartier Nord."}
    assert post.media[0]["alt"] == "Une benne devant la mairie" and Path(post.media[0]["path"]).read_bytes() == PNG
    assert post.scheduled_at.astimezone(PARIS).replace(tzinfo=None) == datetime.combine(day, time(9, 30))
    assert app.text_area(key="calendar_new_text").value == ""  # the form is cleared for the next post

    app.button(key=f"submit_{post.id}").click().run()
    assert posts_repo.get_post(db, post.id).state is S.SUBMITTED
    assert f"approve_{post.id}" not in [b.key for b in app.button]  # community managers do not approve

    as_agent(app, agents["sophie"])
    app.button(key=f"approve_{post.id}").click().run()
    assert not errors(app), errors(app)
    assert posts_repo.get_post(db, post.id).state is S.SCHEDULED
    app.date_input(key="calendar_day").set_value(day).run()
    week = table_with(app, "Jour")  # one row per day, Monday to Sunday; one column per account
    assert len(week) == 7 and any("09:30 programmée" in str(cell) for cell in week.to_numpy().ravel())
    rows = table(app, "calendar_period_table")
    assert list(rows["État"]) == ["programmée"] and list(rows["N°"]) == [post.id]


def test_the_author_cannot_approve_their_own_post(app, db, agents):
    post = calendar.create_post(db, agents["sophie"], text="Marché de Noël ouvert dès samedi.", accounts=["demo"],
                                at=datetime.combine(tomorrow(), time(11)), now=utcnow())
    post_review.submit_post(db, agents["sophie"], post.id, now=utcnow())
    open_as(app, agents["sophie"])
    app.session_state["calendar_selected"] = post.id
    app.run()
    assert app.button(key=f"approve_{post.id}").disabled
    assert any("quatre yeux" in c.value for c in app.caption)


def test_a_time_in_the_spring_forward_gap_is_refused_in_french(app, db, agents):
    day = spring_forward_after(tomorrow())
    open_as(app, agents["julie"])
    app.multiselect(key="calendar_new_accounts").select("demo").run()
    app.text_area(key="calendar_new_text").input("Changement d'heure cette nuit.")
    app.date_input(key="calendar_new_date").set_value(day)
    app.time_input(key="calendar_new_time").set_value(time(2, 30)).run()
    assert any("n'existe pas" in unescape(w.value) for w in app.warning)  # shown before saving
    app.button(key="calendar_create").click().run()
    assert any("02:30 n'existe pas" in e and "heure d'été" in e for e in errors(app)), errors(app)
    assert posts_repo.posts_in_states(db, list(S)) == []


def test_a_doubled_autumn_hour_asks_which_one(app, db, agents):
    day = fall_back_after(tomorrow())
    open_as(app, agents["julie"])
    app.multiselect(key="calendar_new_accounts").select("demo").run()
    app.text_area(key="calendar_new_text").input("Nuit du changement d'heure.")
    app.date_input(key="calendar_new_date").set_value(day)
    app.time_input(key="calendar_new_time").set_value(time(2, 30)).run()
    app.radio(key="calendar_new_fold").set_value(1).run()  # the second 02:30, winter time (UTC+1)
    app.button(key="calendar_create").click().run()
    assert not errors(app), errors(app)
    [post] = posts_repo.posts_in_states(db, list(S))
    assert post.scheduled_at == datetime.combine(day, time(1, 30), tzinfo=UTC)


def test_cancel_a_scheduled_post(app, db, agents):
    post = approved_post(db, agents, text="Concert annulé ?", at=datetime.combine(tomorrow(), time(18)),
                         accounts=("demo",))
    open_as(app, agents["karim"])
    app.session_state["calendar_selected"] = post.id
    app.run()
    app.text_input(key=f"calendar_cancel_reason_{post.id}").input("Événement reporté")
    app.button(key=f"cancel_{post.id}").click().run()
    assert any("Publication annulée" in unescape(s.value) for s in app.success), errors(app)
    stored = posts_repo.get_post(db, post.id)
    assert stored.state is S.CANCELLED and {t.state for t in stored.targets} == {T.CANCELLED}


def _run_worker(db, post, platform_script, *, can_look_up=True):
    """Let a worker reach the post's time on a fake account scripted to fail."""
    clock = FakeClock(post.scheduled_at)
    fake = FakePlatform(clock=clock, script=list(platform_script), can_look_up=can_look_up)
    Publisher(db, {"fake": fake}, clock=clock, policy=PublishPolicy(), rng=random.Random(1), worker_id="w1").tick()
    return fake


def test_retry_a_failed_post(app, db, agents):
    post = approved_post(db, agents, text="Piscine fermée lundi.", at=datetime.combine(tomorrow(), time(8)))
    _run_worker(db, post, ["perm"])
    assert posts_repo.get_post(db, post.id).state is S.FAILED
    open_as(app, agents["julie"])
    assert "File d'attente (1 à traiter)" in [t.label for t in app.tabs]
    attention = table(app, "calendar_attention_table")
    assert list(attention["N°"]) == [post.id] and "duplicate content" in attention["À faire"][0]
    app.session_state["calendar_selected"] = post.id
    app.run()
    targets = table_with(app, "Raison")
    assert list(targets["État"]) == ["échec"] and "400 duplicate content" in targets["Raison"][0]
    assert list(targets["Lien"]) == [""] and not targets.isna().any().any()  # no link yet: empty, never « None »
    app.button(key=f"retry_{post.id}").click().run()
    assert not errors(app), errors(app)
    stored = posts_repo.get_post(db, post.id)
    assert stored.state is S.SCHEDULED and stored.targets[0].state is T.PENDING


def test_settle_a_post_to_verify_as_published(app, db, agents):
    post = approved_post(db, agents, text="Travaux rue Victor-Hugo.", at=datetime.combine(tomorrow(), time(8)))
    _run_worker(db, post, ["ambig_after"], can_look_up=False)
    assert posts_repo.get_post(db, post.id).state is S.TO_VERIFY
    open_as(app, agents["julie"])
    app.session_state["calendar_selected"] = post.id
    app.run()
    app.button(key=f"verify_{post.id}_fake").click().run()
    assert any("lien" in e for e in errors(app))  # published needs the link
    app.text_input(key=f"calendar_verify_link_{post.id}_fake").input("https://fake.invalid/fake-1")
    app.button(key=f"verify_{post.id}_fake").click().run()
    stored = posts_repo.get_post(db, post.id)
    assert stored.state is S.SENT and stored.targets[0].permalink == "https://fake.invalid/fake-1"
    assert list(table_with(app, "Raison")["Lien"]) == ["https://fake.invalid/fake-1"]


def test_editing_an_approved_post_reopens_its_approval(app, db, agents):
    post = approved_post(db, agents, text="Fête de quartier samedi.", at=datetime.combine(tomorrow(), time(10)),
                         accounts=("demo",))
    open_as(app, agents["julie"])
    app.session_state["calendar_selected"] = post.id
    app.run()
    assert any("renverra en validation" in unescape(w.value) for w in app.warning)
    app.text_area(key=f"calendar_edit_text_{post.id}").input("Fête de quartier samedi, place du Marché.")
    app.button(key=f"edit_{post.id}").click().run()
    assert any("repart en validation" in unescape(s.value) for s in app.success), errors(app)
    stored = posts_repo.get_post(db, post.id)
    assert stored.state is S.SUBMITTED and stored.approved_hash is None


def test_recurring_post_approved_by_a_director_then_one_date_skipped(app, db, agents):
    open_as(app, agents["julie"])
    app.multiselect(key="calendar_rule_new_accounts").select("demo")
    app.text_area(key="calendar_rule_new_text").input("Collecte des encombrants ce matin.")
    app.multiselect(key="calendar_rule_new_days").select(0).select(3)
    app.time_input(key="calendar_rule_new_time").set_value(time(9, 0))
    app.button(key="calendar_rule_create").click().run()
    assert not errors(app), errors(app)
    [rule] = recurrence.list_recurrences(db)
    assert recurrence.describe(rule) == "chaque semaine le lundi, jeudi à 09:00"
    app.button(key=f"rec_submit_{rule.id}").click().run()
    as_agent(app, agents["sophie"])
    app.button(key=f"rec_approve_{rule.id}").click().run()
    assert not errors(app), errors(app)
    occurrences = [p for p in posts_repo.posts_in_states(db, [S.SCHEDULED]) if p.recurrence_id == rule.id]
    assert len(occurrences) >= 3  # two weeks ahead, Mondays and Thursdays
    assert {p.scheduled_at.astimezone(PARIS).strftime("%a %H:%M") for p in occurrences} <= {"Mon 09:00", "Thu 09:00"}
    first = min(occurrences, key=lambda p: p.scheduled_at)
    app.date_input(key=f"calendar_rule_skip_{rule.id}").set_value(first.occurrence_date)
    app.button(key=f"rec_skip_{rule.id}").click().run()
    assert posts_repo.get_post(db, first.id).state is S.CANCELLED
    assert first.occurrence_date in recurrence.list_recurrences(db)[0].exceptions
