"""Instagram photo tags (polled) and @mentions (pushed by webhook) of the account, on OTHER accounts' media.

Tags: ``GET /{ig-user-id}/tags`` lists the media where the account is tagged, newest first, with cursor paging;
each becomes a Mention of kind ``tag`` (author: the media owner's ``username``; text: the caption). Instagram does
not allow commenting through the API on a photo the account is tagged in, nor hiding or deleting anything on it:
those actions raise ``Unsupported`` and are done in the Instagram app.

@mentions in captions and comments of other accounts' media have no list endpoint: Meta sends a webhook (field
``mentions``, value ``{"media_id", "comment_id"}``, ``comment_id`` absent for a caption) and the content is then
read with ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(ID){...}`` or ``mentioned_media.media_id(ID)``.
They are answered with ``POST /{ig-user-id}/mentions`` (``media_id``, ``comment_id``, ``message``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from connectors.instagram import normalize as nz
from core.errors import MalformedPayload, PermanentFailure, Unsupported
from core.models import Mention, Published

if TYPE_CHECKING:
    from connectors.instagram.connector import InstagramConnector

MAX_TAGS_SEEN = 2000
NO_TAG_ACTIONS = ("Instagram does not allow commenting, hiding or deleting through the API on a post the account "
                  "is tagged in: answer it in the Instagram app")


def read_tags(conn: InstagramConnector, seen: dict[str, int], window_start: int,
              mentions: dict[str, Mention], skipped: list[str]) -> dict[str, int]:
    """Add the tags not in ``seen`` (media id → time) to ``mentions``; returns the pruned new ``seen``."""
    for page in conn._pages(conn.ig_user_id, "tags", {"fields": nz.TAG_FIELDS, "limit": conn.media_limit}):  # noqa: SLF001
        items = page.get("data")
        if not isinstance(items, list):
            raise MalformedPayload("instagram tags: 'data' is not a list")
        stop = not items
        for item in items:
            try:
                mention = nz.media_to_mention(item, kind="tag", account=conn.name)
            except nz.MalformedItem as err:
                skipped.append(f"instagram tag: {err}")
                continue
            when = int(mention.created_at.timestamp())
            if when < window_start or mention.platform_id in seen:
                stop = True  # newest first: what follows is older or already read
                continue
            if conn.username and mention.author.handle == conn.username:
                continue
            mentions[mention.uid] = mention
            seen[mention.platform_id] = when
        if stop:
            break
    keep = sorted(((k, v) for k, v in seen.items() if isinstance(v, int) and v >= window_start - 30 * 86400),
                  key=lambda kv: kv[1])[-MAX_TAGS_SEEN:]
    return dict(keep)


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
        for entry in payload.get("entry") if isinstance(payload.get("entry"), list) else ():
            if not isinstance(entry, Mapping):
                continue
            if str(entry.get("id") or ig_user_id) != ig_user_id:
                yield f"webhook entry for another account ({entry.get('id')})"
                continue
            for change in entry.get("changes") if isinstance(entry.get("changes"), list) else ():
                if isinstance(change, Mapping) and change.get("field") == "mentions":
                    values.append(change.get("value"))
        if not values:
            yield "webhook payload holds no 'mentions' change"
    for value in values:
        media_id = value.get("media_id") if isinstance(value, Mapping) else None
        if not isinstance(media_id, str | int) or not str(media_id):
            yield "mentions change without media_id"
            continue
        comment_id = value.get("comment_id")
        yield (str(comment_id) if comment_id else None, str(media_id))


def fetch_mentioned(conn: InstagramConnector, comment_id: str | None, media_id: str) -> Mention:
    """Read the comment (or the caption) that @mentions the account and normalise it."""
    if comment_id:
        field = f"mentioned_comment.comment_id({comment_id}){{{nz.MENTIONED_COMMENT_FIELDS}}}"
        node = conn._object(conn.ig_user_id, field).get("mentioned_comment")  # noqa: SLF001
        return nz.mentioned_comment_to_mention(node, media_id=media_id, account=conn.name)
    field = f"mentioned_media.media_id({media_id}){{{nz.MENTIONED_MEDIA_FIELDS}}}"
    node = conn._object(conn.ig_user_id, field).get("mentioned_media")  # noqa: SLF001
    return nz.media_to_mention(node, kind="mention", account=conn.name)


def reply(conn: InstagramConnector, mention: Mention, text: str) -> Published:
    """Answer an @mention (``POST /{ig-user-id}/mentions``); tags cannot be answered through the API."""
    if mention.kind == "tag":
        raise Unsupported(NO_TAG_ACTIONS)
    media_id = str(mention.raw.get("media_id") or mention.conversation_id or "")
    if not media_id:
        raise PermanentFailure("this Instagram @mention has no media id: answer it in the Instagram app")
    data = {"media_id": media_id, "message": text}
    if mention.raw.get("comment_id"):
        data["comment_id"] = str(mention.raw["comment_id"])
    answer = conn._graph._write("POST /{page}/mentions", conn.ig_user_id, "mentions", data)  # noqa: SLF001
    if not answer.get("id"):
        raise MalformedPayload("POST /{page}/mentions: no id in the answer")
    return Published(platform_id=str(answer["id"]), permalink=mention.permalink)
