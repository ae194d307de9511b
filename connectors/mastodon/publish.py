"""Image upload for Mastodon posts: ``POST /api/v2/media`` with the alt text as ``description``, then wait for it.

Since Mastodon 4.0 small images are processed at once (HTTP 200, ``url`` set); larger ones answer 202 with
``url: null`` and are processed in the background: ``GET /api/v1/media/:id`` answers 206 while processing and 200
once ``url`` is set (422 if processing failed). A status refers to them by ``media_ids`` (4 at most); attaching
one still processing is refused, so :func:`upload_images` waits, a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.media import Image
from core.errors import MalformedPayload, Unavailable

MAX_IMAGES = 4
Call = Callable[..., Any]


def _ready(answer: Any, endpoint: str) -> tuple[str, bool]:
    if not isinstance(answer, dict) or not answer.get("id"):
        raise MalformedPayload(f"{endpoint}: no media id in the answer")
    return str(answer["id"]), bool(answer.get("url"))


def upload_images(call: Call, api: Any, images: list[Image], *, sleep: Callable[[float], None],
                  polls: int = 10, interval: float = 1.0) -> list[str]:
    """Upload each image with its alt text and wait until every one is processed; returns the media ids.

    :raises Unavailable: an image is still processing after ``polls`` checks (nothing was posted; retry later).
    """
    ids: list[str] = []
    pending: list[str] = []
    for image in images:
        endpoint = "POST /api/v2/media"
        answer = call(endpoint, api.media_post, image.data, mime_type=image.mime, description=image.alt,
                      file_name=image.path.name)
        media_id, ready = _ready(answer, endpoint)
        ids.append(media_id)
        if not ready:
            pending.append(media_id)
    for _ in range(polls):
        if not pending:
            return ids
        sleep(interval)
        still = []
        for media_id in pending:
            endpoint = "GET /api/v1/media/:id"
            _, ready = _ready(call(endpoint, api.media, media_id), endpoint)
            if not ready:
                still.append(media_id)
        pending = still
    if pending:
        raise Unavailable(f"Mastodon is still processing {len(pending)} image(s) after {polls} checks; "
                          "nothing was posted, the publisher will try again")
    return ids
