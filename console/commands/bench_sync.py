"""``bench sync``: the full ingest path (HTTP → normalise → score → store) against local fake platform APIs.

The fake servers are the ones the tests use (``tests/fakes``), run on 127.0.0.1 in this process; this command
therefore needs the repository checkout (it is a developer tool, like the tests).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from console.cli import bench, db_option

# The public channels, then the private ones (issue #20: Messenger, Instagram Direct, Mastodon direct, Bluesky chat).
CONNECTORS = ("x", "facebook", "mastodon", "bluesky", "facebook_messages", "instagram_direct", "mastodon_direct",
              "bluesky_chat")
# Not in the default run: Bluesky replies in threads of 10, each thread's parent unread, so every thread costs one
# ``app.bsky.feed.getPostThread`` (decision 0260) — with the per-pass budget lifted, the worst case.
EXTRA = ("bluesky_threads",)


def _timed_http() -> tuple[list[float], Any]:
    """Wrap ConnectorSession.request to add up the time spent waiting on HTTP."""
    from connectors.http import ConnectorSession

    spent = [0.0]
    original = ConnectorSession.request

    def request(self: ConnectorSession, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    ConnectorSession.request = request  # type: ignore[method-assign]
    return spent, original


def _timed_httpx(spent: list[float]) -> Any:
    """Add the time spent in ``httpx.Client.send`` (the Bluesky SDK's transport) to ``spent``."""
    import httpx

    original = httpx.Client.send

    def send(self: httpx.Client, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    httpx.Client.send = send  # type: ignore[method-assign]
    return original


def _fake_for(name: str, n: int, start_at: Any) -> Any:
    """A fake platform holding ``n`` mentions for connector ``name``."""
    from tests.fakes import FakeBlueskyApi, FakeGraphApi, FakeMastodonApi, FakeXApi

    if name == "x":
        fake: Any = FakeXApi(start=start_at)
        for i in range(n):
            fake.add_tweet(f"@VilleDeTest message {i} : le lampadaire de la rue {i % 97} est éteint depuis hier 💡")
    elif name == "mastodon":
        fake = FakeMastodonApi(start=start_at, limit=10**9)
        for i in range(n):
            fake.mention(f"message {i} : le lampadaire de la rue {i % 97} est éteint depuis hier 💡")
    elif name == "bluesky":
        fake = FakeBlueskyApi(start=start_at)
        for i in range(n):
            fake.post(f"@ville-test.bsky.social message {i} : le lampadaire de la rue {i % 97} est éteint 💡")
    elif name == "bluesky_threads":
        fake = FakeBlueskyApi(start=start_at)
        for t in range(max(1, n // 10)):
            city = fake.own_post(f"Annonce {t} de la Ville")
            top = fake.post(f"Question {t} sur l'annonce", by=f"habitant{t}.bsky.social", reply_to=city["uri"],
                            reason=None)
            for i in range(10):
                fake.post(f"réponse {t}.{i} : le lampadaire de la rue {i} est éteint 💡", reply_to=top["uri"],
                          reason="reply")
    elif name == "facebook":
        fake = FakeGraphApi(start=start_at)
        posts = [fake.add_post(f"Publication {p} de la Ville") for p in range(max(1, n // 100))]
        for i in range(n):
            fake.add_comment(posts[i % len(posts)], f"Commentaire {i} : quand la piscine rouvre-t-elle ? 🏊")
    elif name in ("facebook_messages", "instagram_direct"):  # issue #20: private conversations
        from tests.fakes.meta_conversations import FakeConversationsApi

        fake = FakeConversationsApi(start=start_at)
        platform = "instagram" if name == "instagram_direct" else "messenger"
        for i in range(n):  # ten messages per conversation
            fake.add_message(f"Message privé {i} : mon adresse est {i % 97} rue des Lilas",
                             user=(f"24{i // 10:014d}", f"Habitant {i // 10}"), platform=platform)
    elif name == "mastodon_direct":
        fake = FakeMastodonApi(start=start_at, limit=10**9)
        for i in range(n):
            fake.mention(f"message privé {i} : le lampadaire du {i % 97} impasse des Roses est éteint",
                         visibility="direct")
    elif name == "bluesky_chat":
        from tests.fakes.bluesky_chat import FakeBlueskyChatApi

        fake = FakeBlueskyChatApi(start=start_at)
        for i in range(n):
            fake.add_chat(f"Message privé {i} : mon adresse est {i % 97} rue Voltaire",
                          handle=f"habitant{i // 10}.bsky.social")
    else:
        raise click.BadParameter(f"no fake for {name!r}; known: {', '.join(CONNECTORS)}")
    return fake


def _connector_for(name: str, fake: Any, base_url: str, work: Path) -> Any:
    """The real connector for ``name`` pointed at ``fake``, with pages of 100 (80 on Mastodon, its maximum)."""
    if name == "x":
        from connectors.x.connector import XConnector

        return XConnector(bearer_token=fake.bearer, user_id=fake.user_id, base_url=base_url, page_size=100,
                          max_pages=100, backoff=0)
    if name == "mastodon":
        from connectors.mastodon.connector import MastodonConnector

        return MastodonConnector(base_url=base_url, access_token=fake.token, page_size=80, max_pages=200, backoff=0)
    if name == "bluesky_threads":
        from connectors.bluesky.connector import BlueskyConnector

        return BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base_url,
                                page_size=100, max_pages=200, session_path=work / "bluesky-t.session", backoff=0,
                                thread_lookups=10**6)
    if name == "bluesky":
        from connectors.bluesky.connector import BlueskyConnector

        return BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base_url,
                                page_size=100, max_pages=200, session_path=work / "bluesky.session", backoff=0)
    if name == "mastodon_direct":
        from connectors.mastodon.connector import MastodonConnector

        return MastodonConnector(base_url=base_url, access_token=fake.token, page_size=80, max_pages=200, backoff=0)
    if name in ("facebook_messages", "instagram_direct"):
        from connectors.facebook.conversations import ConversationsConnector, InstagramDirectConnector

        cls = InstagramDirectConnector if name == "instagram_direct" else ConversationsConnector
        return cls(page_id=fake.page_id, page_token=fake.token, base_url=base_url, version=fake.version,
                   channel="instagram" if name == "instagram_direct" else "messenger", limit=100, max_pages=10**6,
                   backoff=0)
    if name == "bluesky_chat":
        from connectors.bluesky.chat import BlueskyChatConnector
        from connectors.bluesky.connector import BlueskyConnector

        base = BlueskyConnector(handle=fake.account_handle, app_password=fake.password, base_url=base_url,
                                session_path=work / "bluesky-chat.session", backoff=0)
        return BlueskyChatConnector(base, max_convos=100, max_pages=10**6)
    from connectors.facebook.connector import FacebookConnector

    return FacebookConnector(page_id=fake.page_id, page_token=fake.token, base_url=base_url, version=fake.version,
                             backoff=0)


def _run_one(name: str, n: int, settings: Any, work: Path) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    import httpx

    from core.db import open_db
    from services.connections.assembly import score_fn
    from services.connections.ingest import sync_connector
    from tests.fakes.base import serve

    start_at = datetime.now(UTC) - timedelta(days=2)
    fake = _fake_for(name, n, start_at)
    db_path = work / f"bench-{name}.db"
    db = open_db(db_path)
    score = score_fn(settings)
    spent, original = _timed_http()
    original_send = _timed_httpx(spent)
    try:
        with serve(fake) as (_, base_url):
            connector = _connector_for(name, fake, base_url, work)
            t0 = time.perf_counter()
            result = sync_connector(db, connector, score=score, max_rounds=1000)
            total = time.perf_counter() - t0
    finally:
        from connectors.http import ConnectorSession

        ConnectorSession.request = original  # type: ignore[method-assign]
        httpx.Client.send = original_send  # type: ignore[method-assign]
        db.close()
    if name.endswith(("_messages", "_direct", "_chat")):
        from core import repo

        check = open_db(db_path)
        private = repo.count_inbox(check, repo.InboxQuery(private=True, open_only=False))
        check.close()
        if private != result.inserted:
            raise click.ClickException(f"{name}: {result.inserted - private} message(s) not stored as private")
    return {"connector": name, "mentions": result.inserted, "seconds": round(total, 2),
            "mentions_per_s": round(result.inserted / total) if total else None,
            "http_s": round(spent[0], 2), "overhead_pct": round(100 * (total - spent[0]) / total, 1),
            "error": result.error or None,
            **({"thread_lookups": len(fake.calls(r"getPostThread$"))} if name.startswith("bluesky") and
               hasattr(fake, "calls") and not name.endswith("_chat") else {})}


@bench.command("sync")
@click.option("--mentions", default=10_000, show_default=True, help="Mentions served by each fake platform.")
@click.option("--connector", "names", multiple=True, default=CONNECTORS, show_default=True,
              help=f"Also: {', '.join(EXTRA)}.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_sync(mentions: int, names: tuple[str, ...], as_json: bool, db_path: Path | None) -> None:
    """Ingest N mentions per connector from local fake APIs (pages of 100) through the full sync path."""
    import logging

    from console.cli import load_settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("services.connections.ingest").setLevel(logging.WARNING)
    settings = load_settings(db_path)
    with tempfile.TemporaryDirectory(prefix="parvis-bench-sync-") as tmp:
        runs = [_run_one(name, mentions, settings, Path(tmp)) for name in names]
    total_n = sum(r["mentions"] for r in runs)
    total_s = sum(r["seconds"] for r in runs)
    http_s = sum(r["http_s"] for r in runs)
    out = {"mentions": total_n, "mentions_per_s": round(total_n / total_s) if total_s else None,
           "overhead_pct": round(100 * (total_s - http_s) / total_s, 1) if total_s else None,
           "page_size": 100, "scorer": settings.sentiment.backend,
           "connectors": runs}
    click.echo(json.dumps(out) if as_json else json.dumps(out, indent=2))
