"""The outbox's lookup of a moderation act (decision 0051): does the platform show it in effect? Facebook reads the
Page's blocked list and the comment's ``is_hidden``; it cannot tell a deletion; the demo reads its outbox."""

from __future__ import annotations

import pytest

from connectors.demo.connector import DemoConnector
from core.errors import ConnectorError
from tests.conftest import make_mention
from tests.connectors.test_bans import CITIZEN, _fb_mention


def test_facebook_tells_a_ban_from_the_blocked_list(fake_graph, fb_connector):
    mention = _fb_mention(fake_graph, fb_connector)
    assert fb_connector.act_applied("unban", mention) and not fb_connector.act_applied("ban", mention)
    fb_connector.ban(mention.author)
    assert fb_connector.act_applied("ban", mention) and not fb_connector.act_applied("unban", mention)
    assert fake_graph.calls(rf"/{fake_graph.page_id}/blocked$", "GET")[-1].args["user"] == CITIZEN[0]


def test_facebook_tells_a_hidden_comment_from_is_hidden(fake_graph, fb_connector):
    mention = _fb_mention(fake_graph, fb_connector)
    assert not fb_connector.act_applied("hide", mention) and fb_connector.act_applied("unhide", mention)
    fb_connector.hide(mention)
    assert fb_connector.act_applied("hide", mention)
    [call] = [c for c in fake_graph.calls(rf"/{mention.platform_id}$", "GET")][-1:]
    assert call.args["fields"] == "id,is_hidden"


def test_facebook_cannot_tell_when_the_lookup_fails_nor_for_a_deletion(fake_graph, fb_connector):
    mention = _fb_mention(fake_graph, fb_connector)
    fake_graph.fail("blocked", 500, {"error": {"code": 2, "message": "retry later"}}, times=99)
    with pytest.raises(ConnectorError):
        fb_connector.act_applied("ban", mention)
    with pytest.raises(ConnectorError):
        fb_connector.act_applied("delete", mention)


def test_demo_reads_its_outbox():
    demo = DemoConnector()
    mention = make_mention("Crétin de maire", author="camille")
    assert demo.act_applied("unhide", mention) and not demo.act_applied("hide", mention)
    demo.hide(mention)
    assert demo.act_applied("hide", mention) and not demo.act_applied("unhide", mention)
    demo.unhide(mention)
    assert demo.act_applied("unhide", mention)
    assert not demo.act_applied("ban", mention)
    demo.ban(mention.author)
    assert demo.act_applied("ban", mention) and not demo.act_applied("unban", mention)
    assert not demo.act_applied("delete", mention)
    demo.delete(mention.platform_id)
    assert demo.act_applied("delete", mention)
