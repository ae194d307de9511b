"""RGPD erasure reaches a resident's posts that Parvis keeps only as Bluesky thread context inside other residents'
mentions (decision 0260): each becomes « effacé » in the mention and its revisions, the city's own posts and the
other residents' entries stay, and a legal hold on the carrying conversation keeps it."""

from __future__ import annotations

import json
from datetime import timedelta

from core import repo
from core.models import Author, Mention, Platform
from services.archive import retention, rgpd

ALICE, BOB, CITY = "did:plc:alice", "did:plc:bob", "did:plc:ville"
ROOT = "at://did:plc:ville/app.bsky.feed.post/root"


def _context(text: str) -> list[dict]:
    return [{"uri": ROOT, "state": "post", "author_did": CITY, "handle": "valmont.fr", "own": True,
             "text": "Travaux rue des Lilas du 3 au 7 juin"},
            {"uri": "at://did:plc:alice/app.bsky.feed.post/a1", "state": "post", "author_did": ALICE,
             "handle": "alice.bsky.social", "own": False, "text": text}]


def _mention(pid: str, did: str, handle: str, text: str, now, *, context: list[dict] | None = None) -> Mention:
    raw = {"uri": pid, **({"context": context} if context is not None else {})}
    return Mention(platform=Platform.BLUESKY, platform_id=pid, text=text, conversation_id=ROOT,
                   author=Author(platform_id=did, handle=handle, display_name=handle), created_at=now, raw=raw)


def _store(db, now):
    alice = _mention("at://did:plc:alice/app.bsky.feed.post/a2", ALICE, "alice.bsky.social",
                     "@valmont.fr et la déviation ?", now)
    bob = _mention("at://did:plc:bob/app.bsky.feed.post/b1", BOB, "bob.bsky.social", "Pareil, aucune info",
                   now, context=_context("Mon voisin Jean au 12 est furieux"))
    repo.upsert_mentions(db, [alice, bob], now=now)
    edited = _mention(bob.platform_id, BOB, "bob.bsky.social", "Pareil, aucune info (édité)", now,
                      context=_context("Mon voisin Jean au 12 est furieux"))
    repo.upsert_mentions(db, [edited], now=now + timedelta(minutes=1))  # a revision keeps the old raw
    return alice, bob


def _stored_raws(db, uid) -> list[str]:
    rows = db.execute("SELECT raw FROM mentions WHERE uid = ? UNION ALL "
                      "SELECT raw FROM mention_revisions WHERE mention_uid = ?", (uid, uid)).fetchall()
    return [r[0] or "" for r in rows]


def test_erasure_removes_the_authors_posts_kept_as_thread_context(db, agents, now):
    alice, bob = _store(db, now)
    assert any("Mon voisin Jean" in raw for raw in _stored_raws(db, bob.uid))

    result = rgpd.erasure_request(db, "@alice.bsky.social", actor=agents["marc"], now=now + timedelta(minutes=2))
    assert result.erased["thread_context"] == 1 and result.held == 0

    raws = _stored_raws(db, bob.uid)
    assert len(raws) >= 2 and not any("Mon voisin Jean" in raw for raw in raws)  # mention and revisions
    context = repo.get_item(db, bob.uid).mention.raw["context"]
    assert context[1] == {"uri": "at://did:plc:alice/app.bsky.feed.post/a1", "state": "erased"}
    assert context[0]["text"] == "Travaux rue des Lilas du 3 au 7 juin"  # the city's post stays
    assert repo.get_item(db, alice.uid).mention.text == alice.text  # her message to the city: the record, kept
    assert json.loads(db.execute("SELECT details FROM rgpd_requests").fetchone()[0])["erased"]["thread_context"] == 1


def test_a_legal_hold_on_the_carrying_conversation_keeps_the_context(db, agents, now):
    _alice, bob = _store(db, now)
    retention.set_hold(db, scope="conversation", platform="bluesky", key=ROOT, reason="Plainte 2026/7",
                       actor=agents["marc"], now=now)
    result = rgpd.erasure_request(db, "@alice.bsky.social", actor=agents["marc"], now=now + timedelta(minutes=2))
    assert result.erased["thread_context"] == 0 and result.held >= 1
    assert any("Mon voisin Jean" in raw for raw in _stored_raws(db, bob.uid))
