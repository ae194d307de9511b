"""A stateful fake of the X API v2 endpoints Parvis uses (shapes as in tests/fixtures/x/).

Routes (names for :meth:`FakeBase.fail`): ``mentions`` GET /2/users/:id/mentions, ``search`` GET
/2/tweets/search/recent, ``user`` GET /2/users/:id, ``create`` POST /2/tweets, ``hidden`` PUT
/2/tweets/:id/hidden, ``delete`` DELETE /2/tweets/:id. Reads need ``Authorization: Bearer <bearer>``, writes an
OAuth 1.0a header; lists are newest first, paged with ``max_results`` and an opaque token, filtered by ``since_id``.

Shapes learnt from posts recorded on the live API (../shared/real-payloads/x/): a post's ``text`` is served
HTML-escaped (``&amp;``, ``&lt;``, ``&gt;``) with every URL shortened to a ``t.co`` link listed in
``entities.urls``; a post carries only the fields the request asked for (``tweet.fields``, ``user.fields``; by
default ``id``, ``text``, ``edit_history_tweet_ids``); an unknown or suspended account's timeline answers 200
with only ``errors[]``; retweets are posts with ``referenced_tweets[type=retweeted]`` and an « RT @… » text.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import FakeBase, json_response

PROBLEM = "https://api.twitter.com/2/problems/"
DEFAULT_TWEET_FIELDS = frozenset({"id", "text", "edit_history_tweet_ids"})
DEFAULT_USER_FIELDS = frozenset({"id", "name", "username"})
_URL = re.compile(r"https?://\S+")


def shorten(text: str) -> tuple[str, list[dict[str, Any]]]:
    """``text`` as X serves it: HTML-escaped, each URL replaced by a ``t.co`` link, and ``entities.urls``."""
    out, urls, last = "", [], 0
    for match in _URL.finditer(text):
        out += html.escape(text[last:match.start()], quote=False)
        short = "https://t.co/" + hashlib.sha1(match[0].encode()).hexdigest()[:10]  # noqa: S324
        urls.append({"start": len(out), "end": len(out) + len(short), "url": short, "expanded_url": match[0],
                     "display_url": match[0].split("://", 1)[1][:24] + "…"})
        out += short
        last = match.end()
    return out + html.escape(text[last:], quote=False), urls


def x_time(dt: datetime) -> str:
    """X's timestamp format: ``2026-01-05T08:12:00.000Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeXApi(FakeBase):
    """State: users, posts, which posts mention the account or match the search, and what was written."""

    def __init__(self, *, user_id: str = "1000", username: str = "VilleDeTest", bearer: str = "test-bearer",
                 start: datetime | None = None) -> None:
        super().__init__()
        self.user_id, self.username, self.bearer = user_id, username, bearer
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.mention_ids: set[str] = set()
        self.search_ids: set[str] = set()
        self.superseded: set[str] = set()  # old versions of edited posts
        self.deleted: list[str] = []
        self.hidden: dict[str, bool] = {}
        self.posted: list[dict[str, Any]] = []  # JSON bodies of POST /2/tweets
        self._next = 1_860_000_000_000_000_000
        self._clock = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        self.add_user(user_id, username, "Ville de Test", followers=12000)

    # ---- state -------------------------------------------------------------------------------------

    def add_user(self, user_id: str, username: str, name: str = "", *, followers: int = 10) -> dict[str, Any]:
        """Register a user (authors must exist to be expanded in ``includes.users``)."""
        user = {"id": user_id, "name": name or username, "username": username,
                "public_metrics": {"followers_count": followers, "following_count": 5, "tweet_count": 100,
                                   "listed_count": 0, "like_count": 3}}
        self.users[user_id] = user
        return user

    def _id(self) -> str:
        self._next += 1000
        return str(self._next)

    def add_tweet(self, text: str, *, author: str = "2001", mention: bool = True, search: bool = False,
                  reply_to: str | None = None, created_at: datetime | None = None, lang: str = "fr",
                  edit_of: str | None = None, **extra: Any) -> dict[str, Any]:
        """Add a post (newest so far); ``mention``/``search`` say which endpoint lists it."""
        if author not in self.users:
            self.add_user(author, f"user{author}", f"Habitant {author}")
        self._clock += timedelta(seconds=7)
        tweet_id = self._id()
        history = [tweet_id]
        if edit_of:
            history = [*self.tweets[edit_of]["edit_history_tweet_ids"], tweet_id]
            for old in history[:-1]:
                self.tweets[old]["edit_history_tweet_ids"] = history
                self.superseded.add(old)
        tweet: dict[str, Any] = {
            "id": tweet_id, "text": text, "author_id": author, "created_at": x_time(created_at or self._clock),
            "conversation_id": self.tweets[reply_to]["conversation_id"] if reply_to in self.tweets else tweet_id,
            "edit_history_tweet_ids": history, "lang": lang,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0,
                               "bookmark_count": 0, "impression_count": 42}}
        if reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            tweet["in_reply_to_user_id"] = self.tweets.get(reply_to, {}).get("author_id", self.user_id)
            if reply_to not in self.tweets:
                tweet["conversation_id"] = reply_to
        tweet.update(extra)
        self.tweets[tweet_id] = tweet
        if mention:
            self.mention_ids.add(tweet_id)
        if search:
            self.search_ids.add(tweet_id)
        return tweet

    def edit(self, tweet_id: str, text: str) -> dict[str, Any]:
        """Edit a post: X creates a new version with a new id and a longer edit history."""
        old = self.tweets[tweet_id]
        return self.add_tweet(text, author=old["author_id"], mention=tweet_id in self.mention_ids,
                              search=tweet_id in self.search_ids, edit_of=tweet_id, lang=old.get("lang", "fr"),
                              created_at=None)

    def remove(self, tweet_id: str) -> None:
        """Delete a post on the platform side (its author deleted it)."""
        self.tweets.pop(tweet_id, None)
        self.mention_ids.discard(tweet_id)
        self.search_ids.discard(tweet_id)
        self.deleted.append(tweet_id)

    # ---- HTTP --------------------------------------------------------------------------------------

    def _auth(self, request: Request, *, write: bool) -> Response | None:
        header = request.headers.get("Authorization", "")
        ok = header.startswith("OAuth ") if write else header == f"Bearer {self.bearer}"
        if ok:
            return None
        return json_response({"title": "Unauthorized", "type": "about:blank", "status": 401,
                              "detail": "Unauthorized"}, 401)

    def _page(self, ids: set[str], request: Request, token_name: str, low: int) -> Response:
        args = request.args
        size = int(args.get("max_results", 10))
        if not low <= size <= 100:
            return json_response({"errors": [{"parameters": {"max_results": [str(size)]},
                                              "message": f"The `max_results` query parameter value [{size}] "
                                                         f"is not between {low} and 100"}],
                                  "title": "Invalid Request", "detail": "One or more parameters to your request "
                                  "was invalid.", "type": PROBLEM + "invalid-request"}, 400)
        since = int(args.get("since_id", 0))
        below = args.get(token_name)
        listed = sorted((int(i) for i in ids if i not in self.superseded and int(i) > since), reverse=True)
        if below:
            listed = [i for i in listed if i < int(below.removeprefix("t"))]
        chunk = listed[:size]
        if not chunk:
            return json_response({"meta": {"result_count": 0}})
        tweets = [self.tweets[str(i)] for i in chunk]
        authors = {t["author_id"] for t in tweets if "author_id" in t}  # a post may lack one (rejected)
        asked = DEFAULT_TWEET_FIELDS | set(filter(None, args.get("tweet.fields", "").split(",")))
        user_asked = DEFAULT_USER_FIELDS | set(filter(None, args.get("user.fields", "").split(",")))
        refs = [r["id"] for t in tweets for r in t.get("referenced_tweets", ())]
        body: dict[str, Any] = {
            "data": [self.served(t, asked) for t in tweets],
            "includes": {"users": [{k: v for k, v in self.users[a].items() if k in user_asked}
                                   for a in sorted(authors) if a in self.users]},
            "meta": {"result_count": len(chunk), "newest_id": str(chunk[0]), "oldest_id": str(chunk[-1])}}
        found = [self.tweets[r] for r in refs if r in self.tweets]
        if found:
            body["includes"]["tweets"] = [self.served(t, asked) for t in found]
        missing = [r for r in refs if r not in self.tweets]
        if missing:
            body["errors"] = [{"value": r, "detail": f"Could not find tweet with referenced_tweets.id: [{r}].",
                               "title": "Not Found Error", "resource_type": "tweet",
                               "parameter": "referenced_tweets.id", "resource_id": r,
                               "type": PROBLEM + "resource-not-found"} for r in missing]
        if len(listed) > size:
            body["meta"]["next_token"] = f"t{chunk[-1]}"
        return json_response(body)

    def served(self, tweet: dict[str, Any], asked: set[str] | frozenset[str]) -> dict[str, Any]:
        """A post as X serves it: only the fields asked for, its text escaped and its links shortened."""
        text, urls = shorten(tweet["text"])
        out = {k: v for k, v in tweet.items() if k in asked}
        out["text"] = text
        if urls and "entities" in asked:
            out["entities"] = {**tweet.get("entities", {}), "urls": urls}
        return out

    def retweet(self, tweet_id: str, *, author: str = "2099") -> dict[str, Any]:
        """A pure retweet of ``tweet_id`` (listed where the original is): « RT @author: text », truncated."""
        original = self.tweets[tweet_id]
        handle = self.users[original["author_id"]]["username"]
        text = f"RT @{handle}: {original['text']}"
        return self.add_tweet(text[:140] + ("…" if len(text) > 140 else ""), author=author,
                              mention=tweet_id in self.mention_ids, search=tweet_id in self.search_ids,
                              referenced_tweets=[{"type": "retweeted", "id": tweet_id}])

    def handle(self, request: Request) -> Response:
        """Route one request."""
        path, method = request.path, request.method
        if method == "GET" and (m := re.fullmatch(r"/2/users/(\w+)/mentions", path)):
            return self._failure("mentions") or self._auth(request, write=False) or (
                self._page(self.mention_ids, request, "pagination_token", 5) if m[1] == self.user_id
                else json_response({"errors": [{"value": m[1], "detail": f"Could not find user with id: [{m[1]}].",
                                                 "title": "Not Found Error", "resource_type": "user",
                                                 "parameter": "id", "resource_id": m[1],
                                                 "type": PROBLEM + "resource-not-found"}]}, 200))
        if method == "GET" and path == "/2/tweets/search/recent":
            return self._failure("search") or self._auth(request, write=False) or self._page(
                self.search_ids, request, "next_token", 10)
        if method == "GET" and (m := re.fullmatch(r"/2/users/(\w+)", path)):
            user = self.users.get(m[1])
            return self._failure("user") or self._auth(request, write=False) or json_response(
                {"data": {k: user[k] for k in ("id", "name", "username")}} if user else
                {"errors": [{"detail": f"Could not find user with id: [{m[1]}].", "title": "Not Found Error",
                             "type": PROBLEM + "resource-not-found"}]})
        if method == "POST" and path == "/2/tweets":
            return self._failure("create") or self._auth(request, write=True) or self._create(request)
        if method == "PUT" and (m := re.fullmatch(r"/2/tweets/(\d+)/hidden", path)):
            failure = self._failure("hidden") or self._auth(request, write=True)
            if failure:
                return failure
            hidden = bool((request.get_json(silent=True) or {}).get("hidden"))
            self.hidden[m[1]] = hidden
            return json_response({"data": {"hidden": hidden}})
        if method == "DELETE" and (m := re.fullmatch(r"/2/tweets/(\d+)", path)):
            failure = self._failure("delete") or self._auth(request, write=True)
            if failure:
                return failure
            self.remove(m[1])
            return json_response({"data": {"deleted": True}})
        return json_response({"title": "Not Found", "type": "about:blank", "status": 404,
                              "detail": f"no route {method} {path}"}, 404)

    def _create(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        self.posted.append(body)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        tweet = self.add_tweet(str(body.get("text", "")), author=self.user_id, mention=False, reply_to=reply_to)
        return json_response({"data": {"id": tweet["id"], "text": tweet["text"],
                                       "edit_history_tweet_ids": [tweet["id"]]}}, 201)
