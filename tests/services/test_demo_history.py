"""The demo city's past weeks (services/connections/demo_history.py): answered messages with response times, replies
« à vérifier », saved replies with every variable, a charter, published, scheduled and waiting posts; once only."""

from __future__ import annotations

from core import audit, repo
from core.config import Settings
from core.models import Role
from editorial.templates import variables_in
from services.accounts import users
from services.connections import demo
from services.editorial import charter
from services.inbox import saved_replies
from services.reports.dashboard import DashboardConfig, DashboardFilters, load_dashboard
from services.reports.topics import topics_for


def test_the_demo_team_has_been_working_for_weeks(db, db_path, now):
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={})
    report = demo.load_demo(db, settings, now=now, days=12)
    assert report.answered > 50
    states = dict(db.execute("SELECT state, count(*) FROM drafts GROUP BY 1").fetchall())
    assert states.get("sent", 0) == report.answered and states.get("to_verify") == 3
    statuses = dict(db.execute("SELECT status, count(*) FROM mentions GROUP BY 1").fetchall())
    assert statuses["answered"] == report.answered and statuses["closed"] > 10 and statuses["new"] > 10
    director = next(a for a in users.list_agents(db) if a.role is Role.DIRECTOR)
    saved = saved_replies.list_saved(db, director)
    used = {v for s in saved for v in variables_in(s.body)}
    assert len(saved) == 5 and used == {"prenom", "service", "lien"}
    assert charter.current(db).charter.name == "Charte éditoriale de la Ville de Valmont"
    posts = dict(db.execute("SELECT state, count(*) FROM posts GROUP BY 1").fetchall())
    assert posts == {"sent": 3, "scheduled": 3, "submitted": 1}
    dash = load_dashboard(db, DashboardFilters(), DashboardConfig.from_settings(settings), now=now)
    t = dash.totals
    assert t["open_backlog"] <= t["mentions"] and t["answered"] == report.answered
    assert dash.response_by_channel and dash.response_by_agent  # the response-time charts have data
    assert not any(topic.campaign for topic in topics_for(db, DashboardFilters(),
                                                           DashboardConfig.from_settings(settings), now=now))
    events = audit.event_names(db)
    assert "reply-sent" in events and "reply-approved" in events and "post-approved" in events
    again = demo.load_demo(db, settings, now=now, days=12)  # once only
    assert again.answered == 0 and repo.mention_count(db) == report.total
