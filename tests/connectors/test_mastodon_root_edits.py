"""The city's statuses read as thread roots (« Fil », decision 0285) re-checked on Mastodon: an edit made on the
instance after Parvis read the root is stored with its history, a deletion marks the root (its text kept), and a
rate limit or a malformed answer loses nothing (decision 0305). Against the fake instance of the mentions' re-check
(tests/connectors/test_mastodon_recheck.py: its fixtures and helpers)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core import repo
from services.inbox import triage
from tests.connectors.test_city_roots import CITY_MASTODON
from tests.connectors.test_mastodon_recheck import LATER, asked, clock, connect, fake, sync  # noqa: F401 (fixtures)
from tests.fakes.mastodon_api import masto_time

TRAVAUX = "Travaux rue Jean-Jaurès du 3 au 7 juin"


def answered(fake, text: str = TRAVAUX) -> tuple[dict, dict]:  # noqa: F811
    """A status of the city and a resident's reply to it (a mention)."""
    city = fake.status(text, author=CITY_MASTODON)
    return city, fake.mention("Jusqu'à quand ?", reply_to=city["id"])


def root_steps(db, city: dict) -> list[tuple[str, str | None, str | None]]:
    return [(r["change"], r["old_text"], r["new_text"]) for r in repo.city_post_revisions(db, "mastodon", city["id"])]


def stored(db, city: dict) -> tuple[str, str, str | None, str | None]:
    """The root's text, when it was last written, and when it was first seen edited and deleted."""
    return db.execute("SELECT text, recorded_at, edited_at, deleted_at FROM city_posts WHERE platform = 'mastodon' "
                      "AND platform_id = ?", (city["id"],)).fetchone()


def audited(db) -> list[dict]:
    rows = db.execute("SELECT subject, properties FROM audit_log WHERE event = 'city-post-revised' ORDER BY id")
    return [{"subject": s, **json.loads(p)} for s, p in rows.fetchall()]


def histories(fake, city: dict) -> int:  # noqa: F811
    return len(fake.calls(rf"^/api/v1/statuses/{city['id']}/history$"))


def state(db) -> dict:
    return json.loads(repo.connector_health(db, "mastodon").cursor)


def test_an_edited_root_is_read_again_its_text_follows_and_its_history_is_kept(fake, clock, db):  # noqa: F811
    city, reply = answered(fake)
    connector = connect(fake, clock)
    sync(db, connector, clock)
    assert stored(db, city)[0] == TRAVAUX and histories(fake, city) == 0
    fake.edit(city["id"], "Travaux rue Jean-Jaurès du 3 au 14 juin")
    clock.now += LATER
    assert sync(db, connector, clock).revised == 0  # the root is no mention: the inbox's counts do not move
    assert root_steps(db, city) == [("edited", TRAVAUX, "Travaux rue Jean-Jaurès du 3 au 14 juin")]
    text, _, edited_at, deleted_at = stored(db, city)
    assert text == "Travaux rue Jean-Jaurès du 3 au 14 juin" and edited_at and deleted_at is None
    root = triage.detail(db, f"mastodon:{reply['id']}", now=clock.now).root
    assert root is not None and root.text == text and root.edited_at is not None  # « Fil » shows the current text
    assert [city["id"]] in asked(fake) and histories(fake, city) == 1  # one multi-get, one history read
    assert audited(db) == [{"subject": f"city-post:mastodon:{city['id']}", "change": "edited",
                            "old_text": TRAVAUX, "new_text": text}]  # the city's text, in the chain
    fake.edit(city["id"], "Travaux reportés")
    clock.now += LATER  # a second edit: one more step, the first one not stored again
    sync(db, connector, clock)
    assert [s[2] for s in root_steps(db, city)] == ["Travaux rue Jean-Jaurès du 3 au 14 juin", "Travaux reportés"]
    assert stored(db, city)[0] == "Travaux reportés" and len(audited(db)) == 2


def test_an_unchanged_root_is_checked_on_schedule_but_not_rewritten(fake, clock, db):  # noqa: F811
    city, _ = answered(fake)
    connector = connect(fake, clock)
    sync(db, connector, clock)
    written = stored(db, city)
    clock.now += timedelta(minutes=5)  # within the re-check interval: not asked
    sync(db, connector, clock)
    assert not fake.calls(r"^/api/v1/statuses$")
    clock.now += LATER
    sync(db, connector, clock)
    assert [city["id"]] in asked(fake) and histories(fake, city) == 0
    assert stored(db, city) == written and root_steps(db, city) == [] and audited(db) == []
    assert state(db)["roots_recent"][city["id"]][2] == int(clock.now.timestamp())  # checked now


def test_a_deleted_root_is_marked_and_keeps_its_text(fake, clock, db):  # noqa: F811
    city, reply = answered(fake)
    connector = connect(fake, clock)
    sync(db, connector, clock)
    fake.remove(city["id"])
    clock.now += LATER
    sync(db, connector, clock)
    assert root_steps(db, city) == [("deleted", None, None)]
    text, _, _, deleted_at = stored(db, city)
    assert text == TRAVAUX and deleted_at  # kept: what the residents answered
    root = triage.detail(db, f"mastodon:{reply['id']}", now=clock.now).root
    assert root is not None and root.text == TRAVAUX and root.deleted_at is not None
    assert fake.calls(rf"^/api/v1/statuses/{city['id']}$", "GET")  # missing from the multi-get: confirmed alone
    assert city["id"] not in state(db).get("roots_recent", {})
    clock.now += LATER
    sync(db, connector, clock)
    assert root_steps(db, city) == [("deleted", None, None)] and [a["change"] for a in audited(db)] == ["deleted"]


def test_a_429_on_the_histories_leaves_the_rest_for_the_next_pass(fake, clock, db):  # noqa: F811
    roots = [answered(fake, f"Annonce {i}")[0] for i in range(3)]
    connector = connect(fake, clock)
    sync(db, connector, clock)
    for i, city in enumerate(roots):
        fake.edit(city["id"], f"Annonce {i} corrigée")
    clock.now += LATER
    reset = masto_time(clock.now + timedelta(minutes=1))
    fake.fail("history", 429, {"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset}, after=1)
    assert sync(db, connector, clock).status == "ok"  # the mentions' pass is not failed by a root
    expected = [[("edited", f"Annonce {i}", f"Annonce {i} corrigée")] for i in range(3)]
    assert [root_steps(db, c) for c in roots] == expected  # the text as read now, the old one kept meanwhile
    assert [stored(db, c)[0] for c in roots] == [f"Annonce {i} corrigée" for i in range(3)]
    assert state(db)["roots_history_due"] == [c["id"] for c in roots[1:]]
    assert "2 thread root edit histories wait" in (repo.connector_health(db, "mastodon").last_error or "")
    clock.now += timedelta(minutes=2)  # the window reopened; nothing is due for a re-check yet
    sync(db, connector, clock)
    assert [histories(fake, c) for c in roots] == [1, 2, 1]  # cut by the 429 (the third not even asked): read now
    assert [root_steps(db, c) for c in roots] == expected  # ... their one step already stored: not twice
    assert "roots_history_due" not in state(db) and len(audited(db)) == 3


def test_a_429_on_the_roots_recheck_resumes_where_it_stopped(fake, clock, db):  # noqa: F811
    city, _ = answered(fake)
    connector = connect(fake, clock)
    sync(db, connector, clock)
    fake.edit(city["id"], "Travaux terminés")
    clock.now += LATER
    reset = masto_time(clock.now + timedelta(minutes=1))
    fake.fail("lookup", 429, {"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset},
              after=1)  # the mentions' multi-get answered, the roots' refused
    assert sync(db, connector, clock).status == "ok"
    assert root_steps(db, city) == [] and stored(db, city)[0] == TRAVAUX and histories(fake, city) == 0
    assert "re-check stopped (rate_limited" in (repo.connector_health(db, "mastodon").last_error or "")
    clock.now += timedelta(minutes=2)  # the root was not checked: still due
    sync(db, connector, clock)
    assert root_steps(db, city) == [("edited", TRAVAUX, "Travaux terminés")]
    assert stored(db, city)[0] == "Travaux terminés"


@pytest.mark.parametrize("route", ["history", "lookup"])
def test_a_malformed_answer_is_noted_and_read_again_later(fake, clock, db, route):  # noqa: F811
    city, _ = answered(fake)
    connector = connect(fake, clock)
    sync(db, connector, clock)
    fake.edit(city["id"], "Travaux terminés")
    clock.now += LATER
    fake.fail(route, 200, {"unexpected": "shape"}, after=1 if route == "lookup" else 0)  # not a list
    assert sync(db, connector, clock).status == "ok"
    error = repo.connector_health(db, "mastodon").last_error or ""
    assert "thread root" in error and "malformed_payload" in error  # said on « Connexions », not silent
    edit = ("edited", TRAVAUX, "Travaux terminés")
    if route == "history":  # the status was read: its text follows, the text before kept, the history read later
        assert root_steps(db, city) == [edit] and state(db)["roots_recent"][city["id"]][0] == ""
    else:  # nothing was read: the root waits, unchanged
        assert root_steps(db, city) == [] and stored(db, city)[0] == TRAVAUX
    clock.now += LATER  # read again
    sync(db, connector, clock)
    assert root_steps(db, city) == [edit] and histories(fake, city) == (2 if route == "history" else 1)
    assert stored(db, city)[0] == "Travaux terminés" and not repo.connector_health(db, "mastodon").last_error


def test_the_roots_recheck_is_bounded_and_forgets_quiet_roots(fake, clock, db):  # noqa: F811
    roots = [answered(fake, f"Annonce {i}")[0] for i in range(3)]
    connector = connect(fake, clock, root_lookups=2)
    sync(db, connector, clock)
    sync(db, connector, clock)  # the third root waited for this pass (2 reads a pass)
    clock.now += LATER
    sync(db, connector, clock)
    root_calls = [ids for ids in asked(fake) if set(ids) <= {c["id"] for c in roots}]
    assert [len(ids) for ids in root_calls] == [2]  # at most root_lookups roots a pass
    clock.now += timedelta(minutes=1)  # the root left over is the only one due
    sync(db, connector, clock)
    assert [len(ids) for ids in asked(fake) if set(ids) <= {c["id"] for c in roots}] == [2, 1]
    clock.now += timedelta(days=8)  # nobody answered them for longer than the re-check window
    sync(db, connector, clock)
    assert "roots_recent" not in state(db)
    fake.mention("Et alors ?", reply_to=roots[0]["id"])  # answered again: re-checked at the next pass
    sync(db, connector, clock)
    assert list(state(db)["roots_recent"]) == [roots[0]["id"]]
    assert not fake.calls(rf"^/api/v1/statuses/{roots[0]['id']}$", "GET")[1:]  # not read again as a new root


def test_a_root_read_already_edited_brings_its_recorded_history(fake, clock, db):  # noqa: F811
    """The recorded mastodon.social status and its edit history (../shared/real-payloads/), as the city's root."""
    from tests.connectors.test_real_payloads import REAL, body

    if not REAL.is_dir():
        pytest.skip(f"no recordings of the live APIs at {REAL}")
    status = {**body("mastodon/mastosocial_status_edited_cw_gifv"), "account": fake.me}
    fake.statuses[status["id"]] = status
    fake.history[status["id"]] = body("mastodon/mastosocial_history_a")
    fake.mention("Bien reçu", reply_to=status["id"])
    sync(db, connect(fake, clock), clock)
    [(change, before, after)] = root_steps(db, status)
    assert change == "edited" and before == "@halcy you're a doo-doo head"
    assert after and after.startswith("[CW: test post for mastodon.py stuff] @halcy you're a doo-doo head")
    assert stored(db, status)[0].startswith("[CW: test post")  # the current version, as the status shows it
