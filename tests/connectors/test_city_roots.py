"""The city's own post at the top of « Fil » for X, Mastodon and Instagram (decisions 0212, 0285): each connector
hands back the city's post a resident answers, at the least API cost, through the fake servers, then the sync and
the inbox detail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.instagram.connector import InstagramConnector
from connectors.mastodon.connector import MastodonConnector
from connectors.x.connector import XConnector
from services.connections.ingest import sync_connector
from services.inbox import triage
from tests.connectors.conftest import load_fixture
from tests.fakes import FakeInstagramApi, FakeMastodonApi

CITY_MASTODON = ("109000", "villedetest", "Ville de Test")


# ---- X: the replied-to post comes in includes.tweets (referenced_tweets.id expansion), no extra request ----------

def test_x_recorded_page_the_citys_included_post_is_a_root():
    """The recorded mentions page (tests/fixtures/x/) holds the city's post in ``includes.tweets``."""
    from connectors.x import normalize as nz

    page = load_fixture("x/mentions_page.json")
    roots = nz.city_roots(page, user_id="1000")
    assert [(r.platform_id, r.text) for r in roots] == [
        ("1876990000000000001", "Travaux d'éclairage public cette semaine dans le quartier Nord.")]
    assert roots[0].published_at == datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
    assert roots[0].permalink == "https://x.com/i/web/status/1876990000000000001"
    assert nz.city_roots(page, user_id="2244994945") == []  # a resident's post is never a city root


def test_x_the_citys_tweet_is_the_root_of_the_replies_with_no_extra_request(fake_x, x_connector, db):
    city = fake_x.add_tweet("Fermeture de la piscine & du gymnase lundi https://ville.fr/travaux",
                            author=fake_x.user_id, mention=False)
    reply = fake_x.add_tweet("@VilleDeTest Jusqu'à quand ?", reply_to=city["id"])
    other = fake_x.add_tweet("Un fil d'habitant", author="3003", mention=False)
    aside = fake_x.add_tweet("@VilleDeTest et vous en pensez quoi ?", reply_to=other["id"])
    city_inner = fake_x.add_tweet("@user3003 Nous regardons", author=fake_x.user_id, mention=False,
                                  reply_to=other["id"])
    fake_x.add_tweet("@VilleDeTest merci", reply_to=city_inner["id"])
    result = x_connector.fetch(None)
    assert [(p.platform_id, p.text) for p in result.own_posts] == [
        (city["id"], "Fermeture de la piscine & du gymnase lundi https://ville.fr/travaux")]  # as written
    assert result.own_posts[0].permalink.startswith("https://x.com/")
    assert {m.platform_id for m in result.mentions} >= {reply["id"], aside["id"]}
    assert city["id"] not in {m.platform_id for m in result.mentions}  # the city's post is no inbox item
    assert [c.path for c in fake_x.requests] == [f"/2/users/{fake_x.user_id}/mentions"]  # nothing more asked
    assert "referenced_tweets.id" in fake_x.requests[0].args["expansions"].split(",")

    now = datetime.now(UTC)
    sync_connector(db, XConnector(bearer_token=fake_x.bearer, user_id=fake_x.user_id, base_url=fake_x.base_url,
                                  backoff=0), now=now)
    root = triage.detail(db, f"x:{reply['id']}", now=now).root
    assert root is not None and root.source == "fetched" and root.permalink.startswith("https://")
    assert root.text.startswith("Fermeture de la piscine & du gymnase lundi https://ville.fr/travaux")
    assert triage.detail(db, f"x:{aside['id']}", now=now).root is None  # a resident's thread: no city root


def test_x_a_deleted_city_post_does_not_break_the_sync(fake_x, x_connector, db):
    city = fake_x.add_tweet("Annonce", author=fake_x.user_id, mention=False)
    reply = fake_x.add_tweet("@VilleDeTest bien reçu", reply_to=city["id"])
    fake_x.remove(city["id"])  # X answers the reply with a resource-not-found error for the reference
    result = x_connector.fetch(None)
    assert result.own_posts == [] and [m.platform_id for m in result.mentions] == [reply["id"]]
    now = datetime.now(UTC)
    assert sync_connector(db, x_connector, now=now).status == "ok"
    assert triage.detail(db, f"x:{reply['id']}", now=now).root is None


# ---- Mastodon: the parent status read once when it is the city's, counted and capped ---------------------------

@pytest.fixture
def masto(httpserver) -> FakeMastodonApi:
    fake = FakeMastodonApi()
    fake.install(httpserver)
    return fake


def masto_connect(fake: FakeMastodonApi, **kwargs) -> MastodonConnector:
    return MastodonConnector(base_url=fake.base, access_token=fake.token, backoff=0, recheck_per_pass=0, **kwargs)


def _status_reads(fake: FakeMastodonApi) -> list[str]:
    return [c.path.rsplit("/", 1)[-1] for c in fake.calls(r"^/api/v1/statuses/\d+$", "GET")]


def test_mastodon_the_citys_status_is_read_once_and_becomes_the_root(masto, db):
    city = masto.status("<b>Travaux</b> rue Jean-Jaurès du 3 au 7 juin", author=CITY_MASTODON)
    first = masto.mention("Jusqu'à quand ?", reply_to=city["id"])
    resident = masto.status("Mon avis sur la fête")
    masto.mention("Vous en pensez quoi ?", reply_to=resident["id"])
    masto.mention("Question sans fil")
    connector = masto_connect(masto)
    result = connector.fetch(None)
    assert [(p.platform_id, p.text) for p in result.own_posts] == [
        (city["id"], "<b>Travaux</b> rue Jean-Jaurès du 3 au 7 juin")]
    assert result.own_posts[0].permalink == city["url"]
    assert _status_reads(masto) == [city["id"]]  # only the city's parent, not the resident's
    assert len(masto.calls("/api/v1/accounts/verify_credentials")) == 1
    state = json.loads(result.cursor)
    assert state["me"] == {"id": "109000", "for": connector.credential_fingerprint}
    assert state["roots_done"] == [city["id"]]

    masto.mention("Et le bus ?", reply_to=city["id"])
    again = connector.fetch(result.cursor)
    assert again.own_posts == [] and len(again.mentions) == 1  # already read: no second request
    assert _status_reads(masto) == [city["id"]]
    assert len(masto.calls("/api/v1/accounts/verify_credentials")) == 1  # the account id is in the cursor

    now = datetime.now(UTC)
    sync_connector(db, masto_connect(masto), now=now)
    root = triage.detail(db, f"mastodon:{first['id']}", now=now).root
    assert root is not None and root.text.startswith("<b>Travaux</b> rue Jean-Jaurès") and root.source == "fetched"
    assert root.permalink == city["url"]


def test_mastodon_a_new_token_has_the_account_id_read_again(masto):
    city = masto.status("Annonce", author=CITY_MASTODON)
    masto.mention("Merci", reply_to=city["id"])
    stale = json.dumps({"v": 1, "me": {"id": "999", "for": "another-token"}})
    result = masto_connect(masto).fetch(stale)
    assert [p.platform_id for p in result.own_posts] == [city["id"]]
    assert len(masto.calls("/api/v1/accounts/verify_credentials")) == 1


def test_mastodon_root_lookups_are_capped_and_the_rest_waits(masto):
    cities = [masto.status(f"Annonce {i}", author=CITY_MASTODON) for i in range(3)]
    for city in cities:
        masto.mention("Merci", reply_to=city["id"])
    connector = masto_connect(masto, root_lookups=2)
    first = connector.fetch(None)
    assert len(first.own_posts) == 2 and len(_status_reads(masto)) == 2
    assert len(json.loads(first.cursor)["roots_due"]) == 1
    second = connector.fetch(first.cursor)
    assert {p.platform_id for p in (*first.own_posts, *second.own_posts)} == {c["id"] for c in cities}
    assert len(_status_reads(masto)) == 3 and "roots_due" not in json.loads(second.cursor)


def test_mastodon_a_missing_parent_or_a_rate_limit_does_not_break_the_sync(masto, db):
    gone = masto.status("Annonce retirée", author=CITY_MASTODON)
    kept = masto.status("Annonce du marché", author=CITY_MASTODON)
    first = masto.mention("Où est passée l'annonce ?", reply_to=gone["id"])
    masto.mention("À quelle heure ?", reply_to=kept["id"])
    masto.statuses.pop(gone["id"])  # deleted since: 404
    reset = (datetime.now(UTC) + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    masto.fail("status", 429, {"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset}, after=1)
    now = datetime.now(UTC)
    connector = masto_connect(masto)
    synced = sync_connector(db, connector, now=now)
    assert synced.status == "ok" and synced.inserted == 2
    assert triage.detail(db, f"mastodon:{first['id']}", now=now).root is None
    state = json.loads(db.execute("SELECT cursor FROM connector_state WHERE name = 'mastodon'").fetchone()[0])
    assert state["roots_due"] == [kept["id"]]  # the rate limit left it for the next pass; the 404 is dropped


def test_mastodon_a_refused_account_lookup_leaves_the_mentions_synced(masto):
    city = masto.status("Annonce", author=CITY_MASTODON)
    masto.mention("Merci", reply_to=city["id"])
    masto.fail("verify", 403, {"error": "This action is outside the authorized scopes"})
    result = masto_connect(masto).fetch(None)
    assert len(result.mentions) == 1 and result.own_posts == [] and not _status_reads(masto)


# ---- Instagram: the media is already read with caption, timestamp and permalink -------------------------------

@pytest.fixture
def insta(httpserver) -> FakeInstagramApi:
    fake = FakeInstagramApi(start=datetime.now(UTC) - timedelta(hours=3))
    fake.install(httpserver)
    return fake


def insta_connect(fake: FakeInstagramApi) -> InstagramConnector:
    return InstagramConnector(ig_user_id=fake.ig_user_id, access_token=fake.token, base_url=fake.base, backoff=0)


def test_instagram_the_commented_media_is_the_root_with_no_extra_request(insta, db):
    media = insta.add_media("Le marché de Noël ouvre samedi 🎄")
    comment = insta.add_comment(media, "Super, à quelle heure ?")
    insta.add_media("Une photo sans commentaire")
    connector = insta_connect(insta)
    calls = len(insta.requests)
    result = connector.fetch(None)
    assert [(p.platform_id, p.text) for p in result.own_posts] == [(media, "Le marché de Noël ouvre samedi 🎄")]
    assert result.own_posts[0].permalink == insta.media[media]["permalink"]
    fetched = [c for c in insta.requests[calls:] if c.method == "GET"]
    assert all(c.path.endswith(("/media", "/comments", "/tags")) for c in fetched)  # the usual pass only
    media_call = next(c for c in fetched if c.path.endswith("/media"))
    assert {"caption", "timestamp", "permalink"} <= set(media_call.args["fields"].split(","))

    now = datetime.now(UTC)
    sync_connector(db, insta_connect(insta), now=now)
    root = triage.detail(db, f"instagram:{comment}", now=now).root
    assert root is not None and root.text == "Le marché de Noël ouvre samedi 🎄" and root.source == "fetched"
    assert root.permalink.startswith("https://www.instagram.com/p/")


# ---- the roots read only fields the requests ask for (issue #16; tests/connectors/test_requested_fields.py) -----

def test_the_roots_read_only_requested_fields():
    from connectors.graph.normalize import requested_fields
    from connectors.instagram import normalize as ig
    from connectors.x import normalize as xn
    from tests.connectors.test_requested_fields import IG_MEDIA, X_POST, X_USER, Tracked, _x_tree, unrequested

    reads: set[str] = set()
    city = {**X_POST, "author_id": "1000", "conversation_id": "2"}
    page = Tracked({"data": [], "includes": {"tweets": [city], "users": [{**X_USER, "id": "1000"}]}}, reads)
    assert len(xn.city_roots(page, user_id="1000")) == 1
    tree = {"includes": {"tweets": _x_tree(xn.TWEET_FIELDS, xn.DEFAULT_TWEET_FIELDS),
                         "users": _x_tree(xn.USER_FIELDS, xn.DEFAULT_USER_FIELDS)}}
    assert unrequested(reads, tree) == set()

    reads = set()
    assert ig.own_media_post(Tracked(IG_MEDIA, reads)) is not None
    assert unrequested(reads, requested_fields(ig.MEDIA_FIELDS)) == set()


# ---- the recordings of the live APIs (../shared/real-payloads/, skipped when absent) ---------------------------

def test_roots_from_the_recorded_payloads():
    from connectors.instagram import normalize as ig
    from connectors.mastodon import normalize as masto
    from connectors.x import normalize as xn
    from tests.connectors.test_real_payloads import FILES, REAL, body

    if not REAL.is_dir():
        pytest.skip(f"no recordings of the live APIs at {REAL}")
    media = body("instagram/pyfb_ig_user_media_p1")["data"]
    roots = [ig.own_media_post(m) for m in media]
    assert all(r is not None and r.permalink.startswith("https://www.instagram.com/p/") for r in roots)
    assert [r.platform_id for r in roots if r] == [m["id"] for m in media]  # no caption asked there: kept, text ""
    statuses = [name for name in FILES if name.startswith("mastodon/") and "_status_" in name]
    assert statuses
    for name in statuses:
        status = body(name.removesuffix(".json"))
        root = masto.status_to_own_post(status)
        assert root.platform_id == status["id"] and root.published_at  # a media-only status: text ""
        # a local development instance serves http:// links: never offered as « Voir la publication »
        assert root.permalink.startswith("https://") if "mastosocial" in name else root.permalink == ""
    for name in (n for n in FILES if n.startswith("x/")):
        page = body(name.removesuffix(".json"))
        authors = {str(t.get("author_id")) for t in (page.get("includes") or {}).get("tweets") or ()}
        for author in authors or {"783214"}:  # a recorded page is read without error, whoever the city is
            assert all(r.published_at and r.permalink.startswith("https://x.com/")
                       for r in xn.city_roots(page, user_id=author))
