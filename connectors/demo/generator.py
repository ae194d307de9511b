"""Deterministic generator of the demo city's social-media stream ("Ville de Valmont", @VilleDeValmont).

Pure functions of (seed, time window): no wall clock inside. Time is cut into 10-minute slots and each slot's
conversations derive from ``mix(seed, slot)`` alone, so generating ``[t0, t1)`` then ``[t1, t2)`` yields exactly
the items of ``[t0, t2)``, and the city keeps producing mentions for any later simulated time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.demo import timeline as tl
from connectors.demo.data import city_authors, texts
from connectors.demo.normalize import Rec, fb_permalink, to_mention, x_permalink
from connectors.demo.team import demo_agents
from connectors.demo.threads import build_slot
from core.clock import from_iso
from core.models import Author, Mention, Platform

__all__ = ["DEFAULT_SEED", "DemoItem", "bulk", "city_posts", "demo_agents", "followups", "generate",
           "generate_items", "history", "storms"]

DEFAULT_SEED = 1789
BULK_START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DemoItem:
    """A generated mention with the category it was written for (ground truth for tests and evaluations).

    Categories: voirie, eclairage, dechets, stationnement, cantine, evenements, horaires, demarches,
    remerciements, plainte, insulte_maire, menace, donnees_perso, spam, urgence, tempete, opposition, presse,
    discussion (a neutral reply in a thread), followup (a resident answering the city's reply).
    """

    category: str
    mention: Mention


def _records(start: datetime, end: datetime, seed: int) -> list[Rec]:
    s0, s1 = tl.slot_of(start), tl.slot_of(end)
    lo, hi = start.timestamp(), end.timestamp()
    out = [r for slot in range(s0 - tl.LOOKBACK_SLOTS, s1 + 1) for r in build_slot(seed, slot) if lo <= r.ts < hi]
    out.sort(key=lambda r: (r.ts, r.pid))
    return out


def generate_items(start: datetime, end: datetime, *, seed: int = DEFAULT_SEED) -> list[DemoItem]:
    """Every mention created in ``[start, end)``, oldest first, with its category."""
    return [DemoItem(category=r.category, mention=to_mention(r))
            for r in _records(start, end, seed) if r.kind != "post"]


def generate(start: datetime, end: datetime, *, seed: int = DEFAULT_SEED) -> list[Mention]:
    """Every mention created in ``[start, end)``, oldest first."""
    return [to_mention(r) for r in _records(start, end, seed) if r.kind != "post"]


def history(now: datetime, *, days: int = 30, seed: int = DEFAULT_SEED) -> list[Mention]:
    """The last ``days`` of mentions before ``now``."""
    return generate(now - timedelta(days=days), now, seed=seed)


def city_posts(start: datetime, end: datetime, *, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The city's own posts in ``[start, end)`` that residents answer (context for the conversation view)."""
    out = []
    for r in _records(start, end, seed):
        if r.kind == "post":
            link = x_permalink(r.author.handle, r.pid) if r.platform == "x" else fb_permalink(r.pid)
            out.append({"platform": r.platform, "platform_id": r.pid, "text": r.text, "created_at": tl.utc(r.ts),
                        "permalink": link, "topic": r.category, "replies": r.replies})
    return out


def storms(start: datetime, end: datetime, *, seed: int = DEFAULT_SEED) -> list[tl.Storm]:
    """The storms whose peak starts in ``[start, end)``."""
    first = int(start.timestamp()) // tl.DAY_S // tl.STORM_EPOCH_DAYS
    last = int(end.timestamp()) // tl.DAY_S // tl.STORM_EPOCH_DAYS
    found = (tl.storm_of_epoch(seed, e) for e in range(first, last + 1))
    return [s for s in found if start.timestamp() <= s.start < end.timestamp()]


def followups(replies: Iterable[Mapping[str, Any]], start: datetime, end: datetime, *,
              seed: int = DEFAULT_SEED) -> list[Mention]:
    """Residents answering the city's replies (outbox records of kind "reply") within ``[start, end)``."""
    out = []
    lo, hi = start.timestamp(), end.timestamp()
    x_city, fb_city = city_authors()
    for rec in replies:
        author = rec.get("author")
        try:
            at = from_iso(rec.get("at"))
        except (TypeError, ValueError):
            continue  # a hand-edited outbox line: no follow-up
        if (rec.get("kind") != "reply" or not isinstance(author, dict) or not author.get("id") or at is None
                or rec.get("platform") not in ("x", "facebook") or not rec.get("platform_id")):
            continue
        h = tl.mix(seed, "followup", rec["platform_id"])
        ts = int(at.timestamp()) + 300 + h % 5400
        if h % 10 >= 6 or not lo <= ts < hi:
            continue
        rng = random.Random(h)
        pool = texts().followups_thanks if rng.random() < 0.7 else texts().followups_unhappy
        text = rng.choice(pool).text  # follow-ups have no placeholders
        who = Author(platform_id=str(author["id"]), handle=str(author.get("handle") or author["id"]),
                     display_name=str(author.get("name") or ""), followers=author.get("followers"))
        conv = rec.get("conversation_id") or rec.get("in_reply_to") or rec["platform_id"]
        n = rec["platform_id"].rsplit("-", 1)[-1]
        if rec["platform"] == "x":
            r = Rec(ts=ts, platform="x", pid=f"demo-x-f{n}", kind="reply", text=f"@{x_city.handle} {text}",
                    author=who, category="followup", conv=conv, parent=rec["platform_id"], parent_author=x_city)
        else:
            r = Rec(ts=ts, platform="facebook", pid=f"demo-fb-{conv.rsplit('_', 1)[-1]}_f{n}", kind="reply",
                    text=text, author=who, category="followup", conv=conv,
                    parent=rec.get("in_reply_to") or conv, parent_author=fb_city)
        out.append(to_mention(r))
    return out


def _bulk_pool(seed: int) -> list[Rec]:
    recs = [r for r in _records(BULK_START, BULK_START + timedelta(days=40), seed) if r.kind != "post"]
    return recs or [Rec(ts=0, platform="x", pid="demo-x-0", kind="mention", text="@VilleDeValmont bonjour",
                        author=city_authors()[0], category="discussion", conv="demo-x-0")]


def bulk(n: int, seed: int = DEFAULT_SEED, *, start: datetime = BULK_START, days: float = 365.0) -> Iterator[Mention]:
    """``n`` realistic mentions spread evenly over ``days`` from ``start``, fast (for storage benchmarks).

    Texts and authors are drawn from a pool generated by the normal generator; every fourth item starts a
    conversation and the next three reply to it. Ids (``demo-x-b…``/``demo-fb-b…``) never collide with
    :func:`generate`'s.
    """
    pool = _bulk_pool(seed)
    pools = {"x": [r for r in pool if r.platform == "x"] or pool,
             "facebook": [r for r in pool if r.platform == "facebook"] or pool}
    step, t0 = days * 86_400 / max(n, 1), start.timestamp()
    users: dict[str, dict[str, Any]] = {}
    root_pid, platform = "", "x"
    for i in range(n):
        if i % 4 == 0:
            platform = "x" if (i * 2654435761 + seed) % 100 < 58 else "facebook"
        recs = pools[platform]
        r = recs[(i * 7919 + seed) % len(recs)]
        created = datetime.fromtimestamp(t0 + i * step, UTC).replace(microsecond=0)
        iso = created.isoformat()[:19]  # much faster than strftime
        a = r.author
        if platform == "x":
            pid = f"demo-x-b{i}"
            if i % 4 == 0:
                root_pid = pid
            user = users.get(a.platform_id)
            if user is None:
                user = users[a.platform_id] = {"id": a.platform_id, "name": a.display_name, "username": a.handle}
            raw = {"data": {"id": pid, "text": r.text, "author_id": a.platform_id, "conversation_id": root_pid,
                            "created_at": iso + ".000Z", "lang": "fr",
                            "edit_history_tweet_ids": [pid]}, "includes": {"users": [user]}}
            yield Mention(platform=Platform.X, platform_id=pid, text=r.text, author=a, created_at=created,
                          account="demo", conversation_id=root_pid, in_reply_to=None if pid == root_pid else root_pid,
                          lang="fr", permalink=x_permalink(a.handle, pid),
                          kind="mention" if pid == root_pid else "reply", raw=raw)
        else:
            pid = f"demo-fb-b{i}"
            if i % 4 == 0:
                root_pid = pid
            raw = {"id": pid, "message": r.text, "created_time": iso + "+0000",
                   "from": {"id": a.platform_id, "name": a.display_name}}
            yield Mention(platform=Platform.FACEBOOK, platform_id=pid, text=r.text, author=a, created_at=created,
                          account="demo", conversation_id=root_pid, in_reply_to=None if pid == root_pid else root_pid,
                          lang="fr", permalink=fb_permalink(root_pid, None if pid == root_pid else pid),
                          kind="mention" if pid == root_pid else "comment", raw=raw)
