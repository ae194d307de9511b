"""Meta webhook deliveries as Meta sends them (developers.facebook.com/docs/graph-api/webhooks): Page ``feed``
changes, Instagram ``comments`` and ``mentions``, and their ``X-Hub-Signature-256`` header."""

from __future__ import annotations

import json
import time
from typing import Any

from connectors.graph.webhooks import SIGNATURE_HEADER, signature


def delivery(obj: str, owner: str, field: str, value: Any, *, at: int | None = None) -> dict[str, Any]:
    """One delivery with one change."""
    return {"object": obj, "entry": [{"id": owner, "time": at or int(time.time()),
                                      "changes": [{"field": field, "value": value}]}]}


def feed_comment(fake: Any, comment_id: str, *, verb: str = "add") -> dict[str, Any]:
    """A ``feed`` change for a comment of the fake Graph API (``add``, ``edited``, ``remove``, ``hide``...)."""
    comment = fake.comments.get(comment_id, {})
    value: dict[str, Any] = {"item": "comment", "verb": verb, "comment_id": comment_id,
                             "post_id": comment.get("_post") or f"{fake.page_id}_0",
                             "created_time": int(time.time())}
    if comment:
        value.update({"from": comment["from"], "message": comment["message"]})
        if comment.get("parent"):
            value["parent_id"] = comment["parent"]["id"]
    return delivery("page", fake.page_id, "feed", value)


def feed_post(fake: Any, post_id: str, *, verb: str = "add") -> dict[str, Any]:
    """A ``feed`` change for a (visitor's) post of the fake Graph API."""
    post = fake.posts.get(post_id, {})
    value: dict[str, Any] = {"item": "status", "verb": verb, "post_id": post_id, "published": 1,
                             "created_time": int(time.time())}
    if post:
        value.update({"from": post["from"], "message": post["message"]})
    return delivery("page", fake.page_id, "feed", value)


def ig_comment(fake: Any, comment_id: str) -> dict[str, Any]:
    """An Instagram ``comments`` change for a comment of the fake Instagram API."""
    comment = fake.comments[comment_id]
    value = {"from": comment["from"], "media": {"id": comment["_media"], "media_product_type": "FEED"},
             "id": comment_id, "text": comment["text"]}
    if comment.get("parent_id"):
        value["parent_id"] = comment["parent_id"]
    return delivery("instagram", fake.ig_user_id, "comments", value)


def body_and_headers(payload: Any, app_secret: str | None) -> tuple[bytes, dict[str, str]]:
    """The raw body Meta would send and its headers (signed when ``app_secret`` is given)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if app_secret:
        headers[SIGNATURE_HEADER] = signature(body, app_secret)
    return body, headers
