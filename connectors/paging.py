"""One way to page through a platform's lists: fetch a page for a cursor, read the next cursor, stop.

Every platform pages its lists newest first with an opaque cursor: Graph's ``paging.cursors.after`` (while
``paging.next`` is there), X's ``meta.next_token``, the ``max_id`` of Mastodon's ``Link: <…>; rel="next"``
header (:func:`link_cursor`), Bluesky's ``cursor``. :class:`Walk` runs that loop with the stop conditions they
share:

* the page budget (``max_pages``): the walk ends with pages left, ``cursor`` says where to resume;
* the end of the list (a page with no next cursor): ``done`` is true;
* a boundary the caller sees in a page (an item older than the time looked for, an id already taken): the
  caller stops iterating;
* an error in ``stop_on`` on a later page (e.g. a rate limit): the walk ends keeping the pages already read
  (on the first page it is raised).

The lookups (``connectors/<platform>/lookups.py``) walk newest first down to the time of an uncertain write and
conclude with :func:`not_found` when nothing matched. :func:`load_state` reads back the cursor a connector
stored (its JSON state).

No network and no SDK here: ``fetch`` is the connector's own read (its retries and error translation included).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from core.errors import Unavailable

P = TypeVar("P")


class Walk(Generic[P]):
    """Iterate the pages of one list: ``fetch(cursor)`` reads a page, ``next_cursor(page)`` the next cursor.

    ``cursor`` is where the walk starts (None: the top of the list). While and after iterating: ``pages`` read,
    ``cursor`` the next cursor after the last page read (None at the end), ``done`` whether that page was the
    last one, ``stopped`` the ``stop_on`` error that ended the walk early (else None).
    """

    def __init__(self, fetch: Callable[[str | None], P], next_cursor: Callable[[P], str | None], *,
                 max_pages: int, cursor: str | None = None,
                 stop_on: tuple[type[Exception], ...] = ()) -> None:
        self._fetch, self._next = fetch, next_cursor
        self.max_pages = max(1, max_pages)
        self.start = self.cursor = cursor or None
        self.stop_on = stop_on
        self.pages = 0
        self.done = False
        self.stopped: Exception | None = None

    @property
    def first(self) -> bool:
        """The page just read is the first of a walk started at the top of the list (it holds the newest item)."""
        return self.pages == 1 and self.start is None

    @property
    def more(self) -> bool:
        """Pages are left: the budget ran out, an error in ``stop_on`` or the caller stopped the walk."""
        return not self.done

    def __iter__(self) -> Iterator[P]:
        while not self.done and self.pages < self.max_pages:
            try:
                page = self._fetch(self.cursor)
            except self.stop_on as err:
                if not self.pages:
                    raise
                self.stopped = err
                return
            self.pages += 1
            self.cursor = self._next(page) or None
            self.done = self.cursor is None
            yield page


def link_cursor(links: Mapping[str, Mapping[str, str]], param: str, rel: str = "next") -> str | None:
    """The ``param`` of the URL in a ``Link: <…>; rel="next"`` header (``requests.Response.links``), or None.

    Mastodon pages its lists this way: ``max_id`` for older items (``rel="next"``), ``min_id`` for newer ones
    (``rel="prev"``).
    """
    url = (links.get(rel) or {}).get("url", "")
    found = parse_qs(urlsplit(url).query).get(param) if url else None
    return found[0] if found else None


def not_found(walk: Walk[Any], endpoint: str, *, reached: bool = False, unreadable: int = 0,
              what: str = "item(s)") -> None:
    """What a newest-first lookup that met no match concludes: None (certainly absent) once it ``reached`` items
    older than the time looked for, or the end of the list, with nothing unreadable on the way; ``Unavailable``
    (cannot tell) when the page budget ran out first, or when ``unreadable`` items on the way might have been the
    one looked for."""
    if not (reached or walk.done):
        raise Unavailable(f"{endpoint}: not found within {walk.max_pages} pages; cannot tell")
    if unreadable:
        raise Unavailable(f"{endpoint}: {unreadable} unreadable {what} on the way; cannot tell")
    return None


def load_state(cursor: str | None, legacy: Callable[[str], dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON object a connector stored as its cursor; ``{}`` when there is none or it cannot be read (the next
    pass starts afresh, bounded by its own window). ``legacy`` reads a cursor that is not JSON (from before it was)."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return legacy(cursor) if legacy else {}
    return state if isinstance(state, dict) else {}
