"""The hot reads of the Mastodon connector as plain JSON, without Mastodon.py's types.

Casting each notification into Mastodon.py's typed objects costs about 7 ms (measured with ``bench sync``), ten
times the rest of the path, so these reads (a page of notifications, the statuses of the re-check) go through
the connector's session directly; failures are raised as the Mastodon.py errors the connector already
translates.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from mastodon.errors import MastodonAPIError, MastodonRatelimitError, MastodonServerError, MastodonUnauthorizedError


def _answer(response: requests.Response) -> None:
    """Raise the Mastodon.py error for a failed answer."""
    if response.status_code == 429:
        raise MastodonRatelimitError("Hit rate limit.")
    if not response.ok:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        kind = MastodonUnauthorizedError if response.status_code == 401 else (
            MastodonServerError if response.status_code >= 500 else MastodonAPIError)
        raise kind("Mastodon API returned error", response.status_code, response.reason, error)


def notification_page(session: requests.Session, url: str, params: dict[str, Any], *,
                      token: str | None) -> tuple[Any, str | None]:
    """The page's JSON and the ``max_id`` of its ``Link: <…>; rel="next"`` (None on the last page)."""
    response = session.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    _answer(response)
    following = response.links.get("next", {}).get("url", "")
    found = parse_qs(urlsplit(following).query).get("max_id") if following else None
    return response.json(), (found[0] if found else None)


def get_json(session: requests.Session, url: str, params: dict[str, Any] | None = None, *, token: str | None,
             absent: Collection[int] = (404,)) -> Any:
    """The JSON answer of one GET, or None when the instance answers one of the ``absent`` statuses."""
    response = session.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    if response.status_code in absent:
        return None
    _answer(response)
    return response.json()
