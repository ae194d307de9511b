"""The demo city: a deterministic, realistic French municipal stream, and a sandbox that records what is sent."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from connectors.base import Capability, Connector
from connectors.demo.connector import DemoConnector
from connectors.demo.generator import DEFAULT_SEED, bulk, city_posts, demo_agents, generate, generate_items, storms
from core.clock import PARIS, from_iso
from core.errors import PermanentFailure
from core.models import Platform, Role, SignatureStyle

END = datetime(2025, 12, 15, 12, 0, tzinfo=UTC)
START = END - timedelta(days=30)
PHONE = re.compile(r"(?:\+33 ?6|0[16]) ?(?:39|99) ?(?:98|00)(?: ?\d\d){2}")
ADDRESS = re.compile(r"\b\d{1,3} (?:rue|avenue|boulevard|impasse|chemin|allée|quai|route)\b")
TOPICS = ("voirie", "eclairage", "dechets", "stationnement", "cantine", "evenements", "horaires", "demarches",
          "remerciements", "plainte", "insulte_maire", "menace", "donnees_perso", "spam", "urgence", "tempete")


@pytest.fixture(scope="module")
def month():
    """The default 30-day window, generated once for the module."""
    return generate_items(START, END)


def _key(m):
    return (m.uid, m.text, m.created_at, m.author, m.conversation_id, m.in_reply_to, m.kind,
            json.dumps(m.raw, sort_keys=True, ensure_ascii=False))


def _max_in(times: list[float], width: float) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# ---- generator ------------------------------------------------------------------------------------------------
def test_same_seed_and_window_give_identical_mentions(month):
    again = generate(START, END)
    assert [_key(m) for m in again] == [_key(i.mention) for i in month]
    other = generate(START, END, seed=DEFAULT_SEED + 1)
    assert {m.text for m in other} != {i.mention.text for i in month}


@pytest.mark.parametrize("cut", [timedelta(days=3, seconds=17.25), timedelta(days=12, hours=7), timedelta(days=29)])
def test_consecutive_windows_add_up_to_the_whole(month, cut):
    mid = START + cut
    assert [m.uid for m in generate(START, mid) + generate(mid, END)] == [i.mention.uid for i in month]


def test_fetching_day_by_day_gives_the_same_stream(month):
    days = [START + timedelta(days=d, hours=5.5) for d in range(30)]
    pieces = [m.uid for a, b in pairwise([START, *days, END]) for m in generate(a, b)]
    assert pieces == [i.mention.uid for i in month]


def test_thirty_days_hold_hundreds_of_mentions_on_both_platforms(month):
    mentions = [i.mention for i in month]
    assert len(mentions) >= 400
    assert len({m.uid for m in mentions}) == len(mentions)
    shapes = Counter((m.platform, m.kind) for m in mentions)
    for shape in [(Platform.X, "mention"), (Platform.X, "reply"), (Platform.FACEBOOK, "comment"),
                  (Platform.FACEBOOK, "reply"), (Platform.FACEBOOK, "tag"), (Platform.FACEBOOK, "mention")]:
        assert shapes[shape] >= 10, shape
    assert all(m.account == "demo" and m.platform_id.startswith("demo-") for m in mentions)
    assert all(m.permalink and m.permalink.startswith("https://demo.parvis.invalid/") for m in mentions)
    assert all(m.created_at.tzinfo is not None and m.created_at.utcoffset() == timedelta(0) for m in mentions)
    assert [m.created_at for m in mentions] == sorted(m.created_at for m in mentions)
    assert all(START <= m.created_at < END for m in mentions)


def test_every_topic_of_a_city_inbox_is_there(month):
    counts = Counter(i.category for i in month)
    for topic in TOPICS:
        assert counts[topic] >= 1, topic
    assert counts["insulte_maire"] >= 3 and counts["spam"] >= 3 and counts["donnees_perso"] >= 3


def test_the_rare_but_critical_messages_are_recognisable(month):
    by = {c: [i.mention for i in month if i.category == c] for c in ("menace", "insulte_maire", "donnees_perso",
                                                                      "spam", "urgence")}
    assert any(re.search(r"garnier|maire", m.text, re.I) for m in by["insulte_maire"])
    personal = " ".join(m.text for m in by["donnees_perso"])
    assert PHONE.search(personal) and ADDRESS.search(personal)
    assert all(re.search(r"https?://\S+\.example\b", m.text) for m in by["spam"])
    spam_authors = {m.author.followers for m in by["spam"] if m.platform is Platform.X}
    assert spam_authors and max(spam_authors) < 100
    assert any(re.search(r"gaz|arbre|inond|câble|feu|fuite", m.text, re.I) for m in by["urgence"])


@pytest.mark.parametrize(("seed", "end"), [(DEFAULT_SEED, datetime(2026, 6, 21, tzinfo=UTC)),
                                           (7, datetime(2027, 3, 2, 8, 30, tzinfo=UTC))])
def test_any_thirty_days_hold_a_threat_personal_data_spam_and_a_storm_burst(seed, end):
    items = generate_items(end - timedelta(days=30), end, seed=seed)
    counts = Counter(i.category for i in items)
    for cat in ("menace", "insulte_maire", "donnees_perso", "spam", "urgence"):
        assert counts[cat] >= 1, cat
    storm_times = [i.mention.created_at.timestamp() for i in items if i.category == "tempete"]
    assert _max_in(storm_times, 4 * 3600) >= 40


def test_a_storm_brings_a_burst_of_messages_in_a_few_hours(month):
    (storm, *_) = storms(START, END)
    during = [i for i in month if storm.start <= i.mention.created_at.timestamp() < storm.end]
    before = [i for i in month if storm.start - 86_400 <= i.mention.created_at.timestamp() < storm.start - 68_400]
    assert len(during) >= 60 and len(during) > 4 * len(before)
    texts = " ".join(i.mention.text for i in during if i.category == "tempete").lower()
    assert "arbre" in texts and ("courant" in texts or "électricité" in texts or "electricite" in texts)
    assert any(storm.name in p["text"] for p in city_posts(START, END))  # the city posted an alert


def test_threads_link_messages_between_residents(month):
    mentions = [i.mention for i in month]
    by_id = {m.platform_id: m for m in mentions}
    convs = Counter((m.platform, m.conversation_id) for m in mentions)
    assert any(n >= 3 for (p, _), n in convs.items() if p is Platform.X)
    assert any(n >= 5 for (p, _), n in convs.items() if p is Platform.FACEBOOK)
    linked = [(by_id[m.in_reply_to], m) for m in mentions if m.in_reply_to in by_id]
    assert len(linked) >= 100
    assert all(parent.created_at <= child.created_at for parent, child in linked)
    assert all(parent.conversation_id == child.conversation_id for parent, child in linked
               if parent.kind != "mention" or parent.platform is Platform.X)
    resident_to_resident = [c for p, c in linked
                            if p.platform is Platform.X and c.text.startswith(f"@{p.author.handle}")]
    assert resident_to_resident
    recurring = Counter(m.author.platform_id for m in mentions)
    assert recurring.most_common(1)[0][1] >= 15  # a few regulars write often


def test_payloads_keep_the_platforms_real_json_shape(month):
    x = next(i.mention for i in month if i.mention.platform is Platform.X and i.mention.kind == "reply")
    tweet = x.raw["data"]
    assert {"id", "text", "author_id", "conversation_id", "created_at", "lang", "edit_history_tweet_ids"} <= set(tweet)
    assert tweet["referenced_tweets"] == [{"type": "replied_to", "id": x.in_reply_to}]
    assert from_iso(tweet["created_at"]) == x.created_at and tweet["author_id"] == x.author.platform_id
    assert x.raw["includes"]["users"][0]["username"] == x.author.handle
    fb = next(i.mention for i in month if i.mention.platform is Platform.FACEBOOK and i.mention.kind == "reply")
    assert {"id", "message", "from", "created_time", "parent"} <= set(fb.raw)
    assert fb.raw["from"] == {"id": fb.author.platform_id, "name": fb.author.display_name}
    assert fb.raw["parent"]["id"] == fb.in_reply_to
    assert datetime.strptime(fb.raw["created_time"], "%Y-%m-%dT%H:%M:%S%z") == fb.created_at
    tag = next(i.mention for i in month if i.mention.kind == "tag")
    (t,) = tag.raw["message_tags"]
    assert tag.text[t["offset"]:t["offset"] + t["length"]] == "Ville de Valmont"


def test_texts_read_like_real_french_social_media(month):
    texts = [i.mention.text for i in month]
    joined = " ".join(texts)
    assert re.search(r"[éèàç]", joined) and re.search(r"\bpk\b|\bc\b|\btjrs\b|\bbcp\b|\bya\b", joined)
    assert sum(bool(re.search(r"[\U0001F300-\U0001FAFF]", t)) for t in texts) > len(texts) / 5  # emoji
    assert "#Valmont" in joined and "@VilleDeValmont" in joined
    assert len(set(texts)) > 0.7 * len(texts)
    assert all(len(i.mention.text) <= 280 for i in month if i.mention.platform is Platform.X)


def test_more_messages_by_day_than_by_night(month):
    hours = Counter(i.mention.created_at.astimezone(PARIS).hour for i in month)
    night = sum(hours[h] for h in range(1, 6))
    evening = sum(hours[h] for h in range(18, 23))
    assert night * 5 < evening


def test_the_city_keeps_talking_in_later_simulated_time():
    later = datetime(2031, 2, 3, 9, 0, tzinfo=UTC)
    assert len(generate(later, later + timedelta(days=1))) >= 10


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        generate(datetime(2025, 1, 1), datetime(2025, 1, 2))


def test_bulk_yields_n_distinct_mentions_deterministically():
    first = list(bulk(2_000, seed=3))
    assert len({m.uid for m in first}) == 2_000
    assert [_key(m) for m in first] == [_key(m) for m in bulk(2_000, seed=3)]
    assert first[-1].created_at - first[0].created_at > timedelta(days=360)  # spread over the default year
    assert {m.platform for m in first} == {Platform.X, Platform.FACEBOOK}
    assert all(a.created_at <= b.created_at for a, b in pairwise(first))
    replies = [m for m in first if m.in_reply_to]
    assert replies and all(m.conversation_id == m.in_reply_to for m in replies)


def test_demo_team_covers_every_role():
    agents = demo_agents()
    assert len({a["email"] for a in agents}) == len(agents) >= 4
    assert {Role(a["role"]) for a in agents} == set(Role)
    assert all(SignatureStyle(a["signature_style"]) and a["initials"] and a["name"] for a in agents)


# ---- connector ------------------------------------------------------------------------------------------------
class Clock:
    """A settable simulated clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_connector_declares_every_capability():
    demo = DemoConnector()
    assert isinstance(demo, Connector) and demo.name == "demo"
    assert demo.info.platform is Platform.DEMO and demo.info.capabilities == frozenset(Capability)
    assert demo.health().ok


def test_first_fetch_is_the_history_then_only_newer_mentions_never_twice():
    clock = Clock(END)
    demo = DemoConnector(clock=clock, history_days=30)
    first = demo.fetch(None)
    assert [m.uid for m in first.mentions] == [m.uid for m in generate(START, END)]
    assert from_iso(first.cursor) == END
    seen = {m.uid for m in first.mentions}
    cursor = first.cursor
    for step in (timedelta(minutes=7), timedelta(hours=5), timedelta(0), timedelta(days=1)):
        clock.now += step
        page = demo.fetch(cursor)
        uids = {m.uid for m in page.mentions}
        assert not uids & seen
        assert all(from_iso(cursor) <= m.created_at < clock.now for m in page.mentions)
        seen |= uids
        cursor = page.cursor
    assert seen == {m.uid for m in generate(START, clock.now)}


def test_an_unreadable_cursor_is_reported_and_history_fetched_again():
    demo = DemoConnector(clock=Clock(END), history_days=1)
    page = demo.fetch("not-a-date")
    assert page.skipped and "cursor" in page.skipped[0] and page.mentions


def test_reply_goes_to_the_outbox_with_a_fake_id_and_permalink(tmp_path):
    clock = Clock(END)
    demo = DemoConnector(tmp_path, clock=clock, history_days=1)
    x = next(m for m in demo.fetch(None).mentions if m.platform is Platform.X)
    published = demo.reply(x, "Merci, nous transmettons aux services techniques. — Julie")
    assert published.platform_id == "demo-reply-1"
    assert published.permalink == "https://demo.parvis.invalid/x/VilleDeValmont/status/demo-reply-1"
    lines = (tmp_path / "demo-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    (rec,) = [json.loads(line) for line in lines]
    assert rec["kind"] == "reply" and rec["in_reply_to"] == x.platform_id and rec["platform"] == "x"
    assert rec["text"].endswith("— Julie") and from_iso(rec["at"]) == END
    assert DemoConnector(tmp_path).outbox() == [rec]  # another process reads the same outbox


def test_publish_hide_unhide_delete_are_recorded_in_order():
    demo = DemoConnector(clock=Clock(END))
    m = demo.fetch(None).mentions[0]
    post = demo.publish("Le marché de Noël ouvre samedi 🎄", scheduled_at=END + timedelta(days=1))
    demo.hide(m)
    demo.unhide(m)
    demo.delete(post.platform_id)
    kinds = [(r["n"], r["kind"]) for r in demo.outbox()]
    assert kinds == [(1, "publish"), (2, "hide"), (3, "unhide"), (4, "delete")]
    assert post.platform_id == "demo-post-1" and demo.outbox()[0]["scheduled_at"].startswith("2025-12-16")
    assert demo.outbox()[1]["target"] == m.platform_id and demo.outbox()[3]["target"] == "demo-post-1"


def test_the_sandbox_refuses_what_the_platform_would():
    demo = DemoConnector(clock=Clock(END), history_days=1)
    x = next(m for m in demo.fetch(None).mentions if m.platform is Platform.X)
    with pytest.raises(PermanentFailure):
        demo.reply(x, "   ")
    with pytest.raises(PermanentFailure, match="280"):
        demo.reply(x, "a" * 281)
    assert demo.outbox() == []


def test_two_writers_never_get_the_same_reply_id(tmp_path):
    demo_a, demo_b = DemoConnector(tmp_path, clock=Clock(END)), DemoConnector(tmp_path, clock=Clock(END))
    m = generate(END - timedelta(hours=6), END)[0]
    ids: list[str] = []

    def send(conn: DemoConnector) -> None:
        for _ in range(25):
            ids.append(conn.reply(m, "Merci !").platform_id)

    threads = [threading.Thread(target=send, args=(c,)) for c in (demo_a, demo_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 50 and len(demo_a.outbox()) == 50


def test_residents_answer_the_citys_replies_in_a_later_fetch():
    clock = Clock(END)
    demo = DemoConnector(clock=clock, history_days=2)
    first = demo.fetch(None)
    targets = first.mentions[-12:]
    for m in targets:
        demo.reply(m, "Merci pour votre message. — Julie")
    clock.now += timedelta(hours=3)
    later = demo.fetch(first.cursor)
    answers = [m for m in later.mentions if m.platform_id.rsplit("-", 1)[-1].startswith("f")
               or "_f" in m.platform_id]
    assert answers
    assert {a.author.platform_id for a in answers} <= {m.author.platform_id for m in targets}
    clock.now += timedelta(hours=3)
    assert not {m.uid for m in demo.fetch(later.cursor).mentions} & {a.uid for a in answers}
