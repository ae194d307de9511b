"""Load the built-in demo city: its team (agents) and 30 days of mentions from the demo connector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.files import private_dir
from core.models import Role, SignatureStyle
from services.connections.assembly import score_fn
from services.connections.demo_history import seed_history
from services.connections.ingest import sync_connector


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What :func:`load_demo` did."""

    agents: int
    inserted: int
    total: int
    answered: int = 0  # the team's past weeks (services/connections/demo_history.py)


def seed_agents(db: Database, *, now: datetime) -> int:
    """Create the demo team if absent; return how many agents exist."""
    from connectors.demo.generator import demo_agents

    with write_transaction(db):
        for spec in demo_agents():
            if repo.agent_by_email(db, spec["email"]) is None:
                agent = repo.create_agent(
                    db, email=spec["email"], name=spec["name"], initials=spec["initials"], role=Role(spec["role"]),
                    signature_style=SignatureStyle(spec.get("signature_style", "first_name")),
                    team_signature=spec.get("team_signature", ""),
                    needs_approval=bool(spec.get("needs_approval", False)), now=now)
                audit.record(db, audit.AgentCreated(actor=audit.SYSTEM_CLI, subject=f"agent:{agent.id}",
                                                    email=agent.email, agent_role=str(agent.role)), at=now)
    return len(repo.list_agents(db))


def record_city_posts(db: Database, start: datetime, end: datetime, *, now: datetime) -> int:
    """Record the demo city's own posts published in ``[start, end)``: the roots of the residents' threads, shown
    first in « Fil » (issue #17). The demo connector keeps them out of the mentions (they are not residents')."""
    from connectors.demo.generator import city_posts

    posts = [repo.CityPost(platform=p["platform"], platform_id=p["platform_id"], text=p["text"],
                           published_at=p["created_at"], permalink=p["permalink"], account="demo", source="demo")
             for p in city_posts(start, end)]
    with write_transaction(db):
        return repo.record_city_posts(db, posts, now=now)


def load_demo(db: Database, settings: Settings, *, now: datetime, days: int = 30) -> DemoReport:
    """Seed the demo agents and sync the demo connector once (idempotent)."""
    from connectors.demo.connector import DemoConnector

    agents = seed_agents(db, now=now)
    private_dir(settings.data_dir)
    connector = DemoConnector(state_dir=settings.data_dir, history_days=days, private=True, clock=lambda: now)
    result = sync_connector(db, connector, now=now, score=score_fn(settings))
    record_city_posts(db, now - timedelta(days=days), now, now=now)
    history = seed_history(db, connector, now=now)
    return DemoReport(agents=agents, inserted=result.inserted, total=repo.mention_count(db),
                      answered=history.answered)
