"""Near-copies in the open inbox, answered together (services/inbox/duplicates.py + the topic group answer)."""

from __future__ import annotations

from core import repo
from core.models import Status
from services.inbox import duplicates
from services.reports.topics import answer_group
from tests.conftest import make_mention

CAMPAIGN = "Non à la fermeture de la piscine municipale ! Signez et partagez #SauvonsLaPiscine"


def test_near_copies_of_an_open_message_and_one_answer_for_the_group(db, agents, now):
    copies = [make_mention(CAMPAIGN, author=f"h{i}") for i in range(3)]
    edited = make_mention("@mairie " + CAMPAIGN.lower() + " !!!", author="h9")
    other = make_mention("La piscine ouvre à quelle heure samedi ?", author="h8")
    answered = make_mention(CAMPAIGN, author="h7")
    repo.upsert_mentions(db, [*copies, edited, other, answered], now=now)
    repo.set_status(db, answered.uid, Status.ANSWERED, now=now)
    item = repo.get_item(db, copies[0].uid)
    found = duplicates.near_copies(db, item, viewer=agents["julie"], now=now)
    assert {c.uid for c in found} == {copies[1].uid, copies[2].uid, edited.uid}  # open ones only, not itself
    sent: list[str] = []
    result = answer_group(db, [item.uid, *[c.uid for c in found]], lambda it: sent.append(it.uid))
    assert sorted(sent) == sorted([item.uid, *[c.uid for c in found]]) and result.sent and not result.failed
