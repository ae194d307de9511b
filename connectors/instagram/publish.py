"""Instagram content publishing (Graph API, permission ``instagram_content_publish``): an image post with alt text.

Steps: check the account's publishing quota (``GET /{ig-user-id}/content_publishing_limit``: API-published posts
in a rolling 24 h, 100 per the content-publishing guide; the quota is read, not assumed); create a container
(``POST /{ig-user-id}/media`` with ``image_url``, ``caption``, ``alt_text`` and optional ``user_tags``; for 2 to
10 images, one ``is_carousel_item`` container each, then a ``CAROUSEL`` container with ``children``); wait until
``GET /{container-id}?fields=status_code`` says ``FINISHED`` (``ERROR``/``EXPIRED``: permanent failure); publish
it (``POST /{ig-user-id}/media_publish`` with ``creation_id``) and read the permalink of the new media.

Instagram fetches each image itself from ``image_url``: Parvis builds it as ``PARVIS_MEDIA_BASE_URL + "/" +`` the
stored file's name, so ``<data dir>/media/`` must be served at that public address. Only JPEG is accepted.
Captions are plain text (an @mention stays text; Instagram links it itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.graph.client import GraphClient
from connectors.media import Image, load_images
from core.errors import ConnectorError, MalformedPayload, PermanentFailure, RateLimited, Unavailable
from core.models import Published

MAX_IMAGES = 10  # a carousel holds 2 to 10 items
QUOTA_RETRY = timedelta(hours=1)  # the quota is a rolling 24 h: look again in an hour


class InstagramPublisher:
    """Publishes image posts on one Instagram professional account through the connector's Graph client."""

    def __init__(self, graph: GraphClient, ig_user_id: str, *, media_base_url: str | None,
                 sleep: Callable[[float], None], clock: Callable[[], datetime], polls: int = 10,
                 interval: float = 3.0) -> None:
        self.graph, self.ig_user_id = graph, ig_user_id
        self.media_base_url = (media_base_url or "").rstrip("/")
        self._sleep, self._clock, self.polls, self.interval = sleep, clock, polls, interval

    def _read(self, object_id: str, edge: str | None, fields: str) -> dict[str, Any]:
        if edge:
            return self.graph.get(object_id, edge, {"fields": fields})
        return self.graph.get_object(object_id, fields, retry=False)

    def _write(self, endpoint: str, edge: str, data: dict[str, Any]) -> str:
        answer = self.graph.post(endpoint, self.ig_user_id, edge, data)
        if not answer.get("id"):
            raise MalformedPayload(f"{endpoint}: no id in the answer")
        return str(answer["id"])

    def quota(self) -> tuple[int, int] | None:
        """``(used, total)`` of the rolling 24 h publishing quota, or None when Instagram does not say."""
        answer = self._read(self.ig_user_id, "content_publishing_limit", "quota_usage,config")
        data = answer.get("data")
        row = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else {}
        used, config = row.get("quota_usage"), row.get("config")
        total = config.get("quota_total") if isinstance(config, Mapping) else None
        return (used, total) if isinstance(used, int) and isinstance(total, int) else None

    def _images(self, media: Sequence[Mapping[str, Any]]) -> list[Image]:
        if not media:
            raise PermanentFailure("Instagram cannot publish a text-only post: add at least one image (with its "
                                   "alternative text)")
        if not self.media_base_url:
            raise PermanentFailure("Instagram fetches the image from a public address: set PARVIS_MEDIA_BASE_URL "
                                   "to the public URL where the data directory's media/ folder is served")
        images = load_images(media, platform="Instagram", max_count=MAX_IMAGES)
        for image in images:
            if image.mime != "image/jpeg":
                raise PermanentFailure(f"« {image.name} » is {image.mime.removeprefix('image/').upper()}: "
                                       "Instagram publishes JPEG images only; export it as JPEG")
        return images

    def _container(self, image: Image, entry: Mapping[str, Any], **extra: str) -> str:
        data = {"image_url": f"{self.media_base_url}/{image.path.name}", "alt_text": image.alt, **extra}
        tags = entry.get("user_tags")
        if tags:  # [{"username", "x", "y"}], x and y from the top-left corner, 0.0 to 1.0
            data["user_tags"] = json.dumps(list(tags))
        return self._write("POST /{page}/media", "media", data)

    def _wait(self, container: str) -> None:
        for attempt in range(self.polls + 1):
            status = str(self._read(container, None, "status_code").get("status_code") or "")
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status in ("ERROR", "EXPIRED"):
                raise PermanentFailure(f"Instagram refused the post (container status {status}): check the "
                                       "image at its public address")
            if attempt < self.polls:
                self._sleep(self.interval)
        raise Unavailable(f"Instagram is still preparing the post after {self.polls} checks; nothing was "
                          "published, the publisher will try again")

    def publish(self, text: str, media: Sequence[Mapping[str, Any]]) -> Published:
        """Publish ``text`` as the caption of one image (or a carousel of up to 10); see the module docstring."""
        images = self._images(media)
        quota = self.quota()
        if quota and quota[0] >= quota[1]:
            raise RateLimited(f"Instagram publishing quota used up ({quota[0]}/{quota[1]} posts in 24 h)",
                              reset_at=(self._clock() + QUOTA_RETRY).timestamp(),
                              endpoint="POST /{page}/media_publish")
        if len(images) == 1:
            container = self._container(images[0], media[0], caption=text)
        else:
            children = [self._container(image, entry, is_carousel_item="true") for image, entry in zip(
                images, media, strict=True)]
            container = self._write("POST /{page}/media", "media", {"media_type": "CAROUSEL", "caption": text,
                                                                     "children": ",".join(children)})
        self._wait(container)
        media_id = self._write("POST /{page}/media_publish", "media_publish", {"creation_id": container})
        try:
            permalink = self._read(media_id, None, "permalink").get("permalink")
        except ConnectorError:
            permalink = None  # published all the same: the link is only a convenience
        return Published(platform_id=media_id, permalink=permalink if isinstance(permalink, str) else None)
