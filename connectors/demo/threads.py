"""Build the conversations born in one 10-minute slot: X mentions with their reply chains, Facebook visitor posts
and tagged posts, and the city's own posts with residents' comments and replies between residents."""

from __future__ import annotations

import math
import random
from functools import cache

from connectors.demo import timeline as tl
from connectors.demo.data import Category, Persona, Template, cast, city_authors, residents, texts
from connectors.demo.normalize import BASE_URL, Rec
from connectors.demo.textgen import Scene, fill, style
from core.models import Author

# Mean number of replies a new conversation draws, by category (default 0.6).
REPLY_MEAN = {"plainte": 1.4, "insulte_maire": 1.8, "menace": 1.5, "tempete": 1.1, "opposition": 2.2,
              "urgence": 1.3, "voirie": 0.9, "stationnement": 1.0, "spam": 0.1, "presse": 1.2, "remerciements": 0.4}
TOPIC_CATEGORY = {"noel": "evenements", "musique": "evenements", "tempete_point": "tempete"}
_CITY_POST_TOPICS = ("voirie", "dechets", "evenements", "horaires", "cantine", "demarches", "stationnement",
                     "eclairage")


@cache
def _cast_on(platform: str) -> tuple[Persona, ...]:
    return tuple(p for p in cast() if p.on(platform) is not None)


class SlotBuilder:
    """Accumulates the records of every conversation that starts in one slot."""

    def __init__(self, seed: int, m: tl.Moment, key: int) -> None:
        self.seed, self.slot = seed, m.slot
        self.rng = random.Random(key)
        self.m = m
        self.scene = Scene(month=self.m.month, storm=self.m.storm.name)
        self.recs: list[Rec] = []
        self._root_no = 0
        self._item_no = 0
        self._residents = residents(seed)

    # ---- ids and people -------------------------------------------------------------------------------------
    def _next_id(self, platform: str, post: str | None = None) -> str:
        num = (self.slot * 100 + self._root_no) * 1000 + self._item_no
        self._item_no += 1
        if platform == "x":
            return f"demo-x-{num}"
        return f"demo-fb-{post.rsplit('_', 1)[-1]}_{num}" if post else f"demo-fb-1000_{num}"

    def _start_root(self) -> None:
        self._root_no += 1
        self._item_no = 0

    def persona(self, cat: str, platform: str, *, avoid: Author | None = None) -> Persona:
        """Who writes about ``cat`` on ``platform``."""
        rng = self.rng
        pool = _cast_on(platform)
        role = {"spam": "spam", "opposition": "opposition", "presse": "press"}.get(cat)
        if role:
            return rng.choice([p for p in pool if p.role == role])
        if cat == "discussion" and rng.random() < 0.2:
            regulars = [p for p in pool if p.role == "resident" and p.on(platform) != avoid]
            return rng.choice(regulars)
        if cat == "menace" and rng.random() < 0.5:
            return next(p for p in pool if p.key == "troll")
        fans = [p for p in pool if cat in p.likes and p.on(platform) != avoid]
        if fans and rng.random() < 0.4:
            return rng.choice(fans)
        while True:
            p = self._residents[rng.randrange(len(self._residents))]
            if p.on(platform) != avoid:
                return p

    # ---- texts ----------------------------------------------------------------------------------------------
    def _root_template(self, cat: Category) -> Template:
        rng = self.rng
        for months, tpls in cat.seasonal:
            if self.m.month in months and rng.random() < 0.55:
                return rng.choice(tpls)
        return rng.choice(cat.roots)

    def _reply_template(self, cat: Category) -> tuple[Template, str]:
        r = self.rng.random()
        if cat.replies and r < 0.5:
            return self.rng.choice(cat.replies), cat.name
        if cat.reactions and r < 0.8:
            return self.rng.choice(cat.reactions), "discussion"
        return self.rng.choice(texts().discussion), "discussion"

    def _write(self, tpl: Template, who: Persona, cat: Category, platform: str) -> str:
        text = style(fill(tpl, self.rng, self.scene), self.rng, who.style, cat, platform, self.scene)
        handle = texts().city["x_handle"]
        if platform != "x":
            return text.replace(f"@{handle}", texts().city["page_name"])
        return text if len(text) <= 280 else text[:279] + "…"

    def _media(self, cat: Category, pid: str) -> tuple[str, ...]:
        if cat.media and self.rng.random() < cat.media:
            return (f"{BASE_URL}/media/{cat.name}-{pid.rsplit('_', 1)[-1].rsplit('-', 1)[-1]}.jpg",)
        return ()

    def _likes(self, author: Author) -> int:
        base = math.log10((author.followers or 50) + 10)
        return int(self.rng.random() * 4 * base)

    # ---- conversations --------------------------------------------------------------------------------------
    def root(self, cat_name: str) -> None:
        """A resident starts a conversation about ``cat_name``."""
        self._start_root()
        rng, cat = self.rng, texts().categories[cat_name]
        ts = self.m.ts + rng.randrange(tl.SLOT_S)
        r = rng.random()
        platform, kind = ("x", "mention") if r < 0.58 else ("facebook", "mention") if r < 0.8 else ("facebook", "tag")
        who = self.persona(cat_name, platform)
        author = who.on(platform)
        assert author is not None
        body = self._write(self._root_template(cat), who, cat, platform)
        if platform == "x":
            body = self._address_x(body, cat_name)[:280]
        elif kind == "tag":
            page = texts().city["page_name"]
            body = body if page in body else (f"{page} {body}" if rng.random() < 0.5 else f"{body} {page}")
        pid = self._next_id(platform)
        rec = Rec(ts=ts, platform=platform, pid=pid, kind=kind, text=body, author=author, category=cat_name,
                  conv=pid, media=self._media(cat, pid), likes=self._likes(author))
        self.recs.append(rec)
        if platform == "x":
            self._x_replies(rec, cat, tl.geometric(rng, REPLY_MEAN.get(cat_name, 0.6)))
        elif kind == "mention":
            self._fb_comments(rec.pid, ts, cat_name, tl.geometric(rng, REPLY_MEAN.get(cat_name, 0.6)))

    def _address_x(self, body: str, cat_name: str) -> str:
        handle = "@" + texts().city["x_handle"]
        if handle not in body:
            body = f"{handle} {body}" if self.rng.random() < 0.55 else f"{body} {handle}"
        if cat_name in ("insulte_maire", "menace") and self.rng.random() < 0.4:
            body += " @" + texts().city["mayor_x_handle"]
        return body

    def _x_replies(self, root: Rec, cat: Category, n: int, *, start: Rec | None = None) -> None:
        """``n`` replies under ``root`` (``start``: the first message of this branch, default the root)."""
        rng, handle = self.rng, "@" + texts().city["x_handle"]
        thread, t = [start or root], (start or root).ts
        for _ in range(n):
            t += 30 + int(rng.expovariate(1 / 1500))
            if t >= root.ts + tl.MAX_SPAN_S:
                break
            parent = thread[-1] if rng.random() < 0.6 else rng.choice(thread)
            first = thread[0]
            who_author: Author | None
            if first.author != parent.author and rng.random() < 0.35 and first.author.handle != handle[1:]:
                who_author, who_style = first.author, self._style_of(first.author)
            else:
                p = self.persona("discussion", "x", avoid=parent.author)
                who_author, who_style = p.x, p.style
            assert who_author is not None
            tpl, label = self._reply_template(cat)
            body = style(fill(tpl, rng, self.scene), rng, who_style, cat, "x", self.scene)
            prefix = f"@{parent.author.handle} " if parent.author.handle != handle[1:] else ""
            pid = self._next_id("x")
            rec = Rec(ts=t, platform="x", pid=pid, kind="reply", text=(prefix + f"{handle} " + body)[:280],
                      author=who_author, category=label, conv=root.conv, parent=parent.pid,
                      parent_author=parent.author, likes=self._likes(who_author))
            parent.replies += 1
            thread.append(rec)
            self.recs.append(rec)

    def _style_of(self, author: Author) -> str:
        for p in cast():
            if author in (p.x, p.fb):
                return p.style
        return "neutral"

    def _fb_comments(self, post_id: str, post_ts: int, topic: str, n: int, *, hot: bool = False) -> int:
        """``n`` residents' comments under a Facebook post, some answered by other residents."""
        rng = self.rng
        scale = 1800 if hot else 4200
        delays = sorted(min(int(rng.lognormvariate(math.log(scale), 1.1)), tl.MAX_SPAN_S - 4 * 3600)
                        for _ in range(n))
        storm, on_topic = self.m.storm, 0.85 if hot else 0.65
        for d in delays:
            cat_name = TOPIC_CATEGORY.get(topic, topic) if rng.random() < on_topic else tl.pick_category(rng, self.m)
            cat = texts().categories[cat_name]
            tpl = self._root_template(cat)
            if cat_name == "tempete" and post_ts + d < storm.start:
                tpl = rng.choice(cat.before)
            elif cat_name == "tempete" and post_ts + d >= storm.after_end:
                cat_name, cat = "plainte", texts().categories["plainte"]
                tpl = self._root_template(cat)
            who = self.persona(cat_name, "facebook")
            author = who.fb
            assert author is not None
            pid = self._next_id("facebook", post_id)
            rec = Rec(ts=post_ts + 20 + d, platform="facebook", pid=pid, kind="comment", text="", author=author,
                      category=cat_name, conv=post_id, parent=post_id, media=self._media(cat, pid),
                      likes=self._likes(author))
            rec.text = self._write(tpl, who, cat, "facebook")
            self.recs.append(rec)
            t = rec.ts
            for _ in range(tl.geometric(rng, 0.45 if cat_name in REPLY_MEAN else 0.25, cap=8)):
                t += 30 + int(rng.expovariate(1 / 2400))
                if t >= post_ts + tl.MAX_SPAN_S:
                    break
                other = self.persona("discussion", "facebook", avoid=author)
                assert other.fb is not None
                tpl, label = self._reply_template(cat)
                body = style(fill(tpl, rng, self.scene), rng, other.style, cat, "facebook", self.scene)
                if rng.random() < 0.4:
                    words = author.display_name.split(" ")
                    body = f"{words[0] if len(words) < 3 else author.display_name} {body}"
                reply = Rec(ts=t, platform="facebook", pid=self._next_id("facebook", post_id), kind="reply",
                            text=body, author=other.fb, category=label, conv=post_id, parent=pid,
                            parent_author=author, likes=self._likes(other.fb))
                rec.replies += 1
                self.recs.append(reply)
        return len(delays)

    def city_post(self, platform: str, topic: str, *, hot: bool = False) -> None:
        """The city publishes on ``platform``; residents answer (more of them when ``hot``)."""
        self._start_root()
        rng = self.rng
        ts = self.m.ts + rng.randrange(0, 120)
        x_city, fb_city = city_authors()
        text = fill(rng.choice(texts().city_posts[topic]), rng, self.scene)
        pid = self._next_id(platform)
        author = x_city if platform == "x" else fb_city
        post = Rec(ts=ts, platform=platform, pid=pid, kind="post", text=text, author=author,
                   category=TOPIC_CATEGORY.get(topic, topic), conv=pid)
        self.recs.append(post)
        if platform == "facebook":
            n = 10 + tl.geometric(rng, 14.0) if hot else 2 + tl.geometric(rng, 5.0)
            post.replies = self._fb_comments(pid, ts, topic, n, hot=hot)
            return
        for _ in range(6 + tl.geometric(rng, 6.0) if hot else 1 + tl.geometric(rng, 2.5)):
            cat_name = TOPIC_CATEGORY.get(topic, topic) if rng.random() < 0.7 else tl.pick_category(rng, self.m)
            cat = texts().categories[cat_name]
            who = self.persona(cat_name, "x")
            assert who.x is not None
            rid = self._next_id("x")
            t = ts + 20 + min(int(rng.lognormvariate(math.log(2400 if hot else 5400), 1.0)), tl.MAX_SPAN_S // 2)
            tpl = self._root_template(cat)
            if cat_name == "tempete" and not self.m.storm.start <= t < self.m.storm.after_end:
                tpl = rng.choice(cat.before)
            body = self._write(tpl, who, cat, "x")
            handle = "@" + x_city.handle
            rec = Rec(ts=t, platform="x", pid=rid, kind="reply", text=body if handle in body else f"{handle} {body}",
                      author=who.x, category=cat_name, conv=pid, parent=pid, parent_author=x_city,
                      likes=self._likes(who.x))
            post.replies += 1
            self.recs.append(rec)
            self._x_replies(post, cat, tl.geometric(rng, 0.3), start=rec)

    def plan_city_posts(self) -> list[tuple[str, str, bool]]:
        """The city's publications in this slot: (platform, topic, hot)."""
        m, rng, out = self.m, self.rng, []
        storm = m.storm
        if m.ts <= storm.start - tl.STORM_ALERT_BEFORE_S < m.ts + tl.SLOT_S:
            out += [("facebook", "tempete", True), ("x", "tempete", True)]
        if m.ts <= storm.start + tl.STORM_POINT_AFTER_S < m.ts + tl.SLOT_S:
            out.append(("facebook", "tempete_point", True))
        chance = tl.CITY_POST_TIMES.get((m.hour, m.minute))
        if chance and rng.random() < (chance[1] if m.dow < 5 else chance[2]):
            topic = rng.choice(_CITY_POST_TOPICS)
            if m.month in (11, 12) and rng.random() < 0.35:
                topic = "noel"
            elif m.month == 6 and rng.random() < 0.3:
                topic = "musique"
            out.append((chance[0], topic, False))
        return out


def build_slot(seed: int, slot: int) -> list[Rec]:
    """Every record of the conversations that start in ``slot`` (their replies may fall in later slots)."""
    m = tl.moment(seed, slot)
    key = tl.mix(seed, "slot", slot)
    normal, extra = tl.root_rate(m), tl.storm_rate(m)
    busy = (key >> 11) * 2.0 ** -53 >= math.exp(-(normal + extra))  # P(at least one new conversation)
    special = tl.specials(seed, slot)
    if not busy and not special and not tl.city_may_post(m):
        return []  # most night slots: skip seeding a generator
    b = SlotBuilder(seed, m, key)
    for _ in range(tl.poisson_positive(b.rng, normal + extra) if busy else 0):
        if b.rng.random() * (normal + extra) < extra:
            b.root(b.rng.choices(("tempete", "urgence", "plainte"), (0.82, 0.1, 0.08))[0])
        else:
            b.root(tl.pick_category(b.rng, m))
    for cat in special:
        b.root(cat)
    for platform, topic, hot in b.plan_city_posts():
        b.city_post(platform, topic, hot=hot)
    return b.recs
