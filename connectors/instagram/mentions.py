"""Instagram @mentions of the account in OTHER accounts' captions and comments: pushed by webhook, read, answered.

(Photo tags, the other way the account appears on others' media, are polled with the comments:
connectors/instagram/sync.py. Instagram does not allow commenting through the API on a photo the account is
tagged in, nor hiding or deleting anything on it: those actions raise ``Unsupported``.)

@mentions in captions and comments of other accounts' media have no list endpoint: Meta sends a webhook (field
``mentions``, value ``{"media_id", "comment_id"}``, ``comment_id`` absent for a caption) and the content is then
read with ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(ID){...}`` or ``mentioned_media.media_id(ID)``.
They are answered with ``POST /{ig-user-id}/mentions`` (``media_id``, ``comment_id``, ``message``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import FetchResult
from connectors.graph import webhooks
from connectors.graph.client import GraphClient
from connectors.instagram import normalize as nz
from connectors.instagram.errors import NO_TAG_ACTIONS
from core.errors import MalformedPayload, PermanentFailure, Unsupported
from core.models import Mention, Published


def from_webhook(graph: GraphClient, payload: Any, *, account: str) -> FetchResult:
    """The @mentions a ``mentions`` webhook payload points to, read from the Graph API (no cursor); a mention
    Meta no longer returns (deleted, comments disabled) or cannot be read is skipped with its reason."""
    found: dict[str, Mention] = {}
    skipped: list[str] = []
    for item in webhook_mentions(payload, graph.owner_id):
        if isinstance(item, str):
            skipped.append(f"instagram webhook: {item}")
            continue
        try:
            mention = fetch_mentioned(graph, *item, account=account)
        except (nz.MalformedItem, PermanentFailure) as err:  # deleted since, comments disabled, malformed
            skipped.append(f"instagram @mention {item[0] or item[1]}: {err}")
            continue
        found[mention.uid] = mention
    return FetchResult(mentions=list(found.values()), cursor=None, skipped=skipped)


def webhook_mentions(payload: Any, ig_user_id: str) -> Iterator[tuple[str | None, str] | str]:
    """``(comment_id or None, media_id)`` per ``mentions`` change of a webhook payload; a string: a skip reason.

    Accepts Meta's envelope ``{"object": "instagram", "entry": [{"id", "time", "changes": [{"field", "value"}]}]}``,
    a list of such envelopes, or a bare value ``{"media_id", "comment_id"}`` (a relay that unwrapped it).
    """
    if isinstance(payload, list):
        for one in payload:
            yield from webhook_mentions(one, ig_user_id)
        return
    if not isinstance(payload, Mapping):
        yield "webhook payload is not an object"
        return
    if "media_id" in payload:
        values: list[Any] = [payload]
    else:
        values = []
        for change in webhooks.parse(payload).changes:  # the envelope, read as the /webhooks/meta route does
            if change.field != "mentions":
                continue
            if (change.owner or ig_user_id) != ig_user_id:
                yield f"webhook entry for another account ({change.owner})"
                continue
            values.append(change.value)
        if not values:
            yield "webhook payload holds no 'mentions' change"
    for value in values:
        media_id = value.get("media_id") if isinstance(value, Mapping) else None
        if not isinstance(media_id, str | int) or not str(media_id):
            yield "mentions change without media_id"
            continue
        comment_id = value.get("comment_id")
        yield (str(comment_id) if comment_id else None, str(media_id))


def fetch_mentioned(graph: GraphClient, comment_id: str | None, media_id: str, *, account: str) -> Mention:
    """Read the comment (or the caption) that @mentions the account (``graph``'s owner) and normalise it."""
    if comment_id:
        field = f"mentioned_comment.comment_id({comment_id}){{{nz.MENTIONED_COMMENT_FIELDS}}}"
        node = graph.get_object(graph.owner_id, field).get("mentioned_comment")
        return nz.mentioned_comment_to_mention(node, media_id=media_id, account=account)
    field = f"mentioned_media.media_id({media_id}){{{nz.MENTIONED_MEDIA_FIELDS}}}"
    node = graph.get_object(graph.owner_id, field).get("mentioned_media")
    return nz.media_to_mention(node, kind="mention", account=account)


def reply(graph: GraphClient, mention: Mention, text: str) -> Published:
    """Answer an @mention (``POST /{ig-user-id}/mentions``); tags cannot be answered through the API."""
    if mention.kind == "tag":
        raise Unsupported(NO_TAG_ACTIONS)
    media_id = str(mention.raw.get("media_id") or mention.conversation_id or "")
    if not media_id:
        raise PermanentFailure("this Instagram @mention has no media id: answer it in the Instagram app")
    data = {"media_id": media_id, "message": text}
    if mention.raw.get("comment_id"):
        data["comment_id"] = str(mention.raw["comment_id"])
    answer = graph.post("POST /{page}/mentions", graph.owner_id, "mentions", data)
    if not answer.get("id"):
        raise MalformedPayload("POST /{page}/mentions: no id in the answer")
    return Published(platform_id=str(answer["id"]), permalink=mention.permalink)
