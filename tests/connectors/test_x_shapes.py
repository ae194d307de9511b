"""Issue #16: the X connector against the shapes the live API serves (the fake learnt them from recordings)."""

from __future__ import annotations

from connectors.x import normalize as nz


def test_escaped_text_and_short_links_come_out_as_written(fake_x, x_connector):
    fake_x.add_tweet("@VilleDeTest A&B <3 > voir https://www.ville-test.fr/travaux/rue-haute?x=1&y=2")
    [mention] = x_connector.fetch(None).mentions
    assert mention.text == "@VilleDeTest A&B <3 > voir https://www.ville-test.fr/travaux/rue-haute?x=1&y=2"
    assert "&amp;" in mention.raw["text"] and "t.co/" in mention.raw["text"]  # raw stays as X sent it


def test_quotes_are_linked_and_pure_retweets_left_out(fake_x, x_connector):
    city = fake_x.add_tweet("Fermeture du pont lundi", author=fake_x.user_id, mention=False)
    quote = fake_x.add_tweet("@VilleDeTest encore ?!", referenced_tweets=[{"type": "quoted", "id": city["id"]}])
    complaint = fake_x.add_tweet("@VilleDeTest le pont est fermé depuis une semaine")
    fake_x.retweet(complaint["id"])
    result = x_connector.fetch(None)
    assert {m.platform_id: m.quote_of for m in result.mentions} == {quote["id"]: city["id"], complaint["id"]: None}
    assert result.ignored == {"retweets": 1} and result.skipped == []


def test_long_posts_unescaped_with_their_own_links():
    tweet = {"id": "1", "text": "court…", "author_id": "2", "created_at": "2026-01-05T08:00:00.000Z",
             "note_tweet": {"text": "Long &amp; détaillé https://t.co/abc",
                            "entities": {"urls": [{"url": "https://t.co/abc", "expanded_url": "https://a.fr/x"}]}}}
    assert nz.tweet_to_mention(tweet, users={}).text == "Long & détaillé https://a.fr/x"


def test_search_query_leaves_retweets_out_unless_it_says_otherwise():
    assert nz.without_retweets("#MaVille") == "#MaVille -is:retweet"
    assert nz.without_retweets("#MaVille -is:retweet lang:fr") == "#MaVille -is:retweet lang:fr"
    assert nz.without_retweets("#MaVille is:retweet") == "#MaVille is:retweet"
    assert nz.without_retweets("") == ""
