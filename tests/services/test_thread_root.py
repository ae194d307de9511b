"""The city's own post at the top of a thread (issue #17): « Fil » starts with the publication the comments answer."""

from __future__ import annotations

from datetime import timedelta

from core import repo
from core.config import Settings
from core.db import write_transaction
from services.connections import demo
from services.inbox import triage as inbox
from tests.conftest import make_mention


def test_a_comment_shows_the_city_post_it_answers(db, agents, now):
    post = repo.CityPost(platform="x", platform_id="city-1", text="Marché de Noël samedi place de la Mairie",
                         published_at=now - timedelta(hours=2), permalink="https://x.com/valmont/status/city-1",
                         account="demo", source="demo")
    with write_transaction(db):
        repo.record_city_posts(db, [post], now=now)
    comment = make_mention("À quelle heure ?", conversation_id="city-1", in_reply_to="city-1")
    own = make_mention("Lampadaire éteint", conversation_id="resident-1")
    repo.upsert_mentions(db, [comment, own], now=now)
    d = inbox.detail(db, comment.uid, viewer=agents["julie"], now=now)
    assert d.root == post and [i.uid for i in d.thread] == [comment.uid]
    assert inbox.detail(db, own.uid, viewer=agents["julie"], now=now).root is None  # a resident's own thread
    with write_transaction(db):  # recorded again (a later sync): one row, refreshed
        repo.record_city_posts(db, [post], now=now + timedelta(hours=1))
    assert db.execute("SELECT count(*) FROM city_posts").fetchone()[0] == 1


def test_the_demo_city_threads_start_with_its_posts(db, db_path, now):
    settings = Settings(data_dir=db_path.parent, db_path=db_path, values={})
    demo.load_demo(db, settings, now=now, days=3)
    julie = next(a for a in repo.list_agents(db) if a.role == "community_manager")
    roots = dict(db.execute("SELECT platform || ':' || platform_id, text FROM city_posts").fetchall())
    assert roots, "the demo city published nothing"
    answering = db.execute("SELECT uid, platform, conversation_id FROM mentions WHERE platform || ':' || "
                           "conversation_id IN (SELECT platform || ':' || platform_id FROM city_posts)").fetchall()
    assert len(answering) >= 3  # residents' comments under the city's posts
    uid, platform, conversation = answering[0]
    d = inbox.detail(db, uid, viewer=julie, now=now)
    assert d.root is not None and d.root.text == roots[f"{platform}:{conversation}"]
    assert all(i.mention.created_at >= d.root.published_at for i in d.thread)  # the root comes first
    # a post Parvis published is a root too, read from its outbox target
    target = db.execute("SELECT platform, platform_id, sent_text FROM post_targets WHERE published_at IS NOT NULL "
                        "AND platform_id IS NOT NULL").fetchone()
    assert target is not None
    root = repo.thread_root(db, target[0], target[1])
    assert root is not None and root.source == "published" and root.text
