"""Pure functions on Graph API answers that Facebook and Instagram share: times, list pages, cursors, edits.

No SDK import, no network. A list answer is ``{"data": [...], "paging": {"cursors": {"before", "after"},
"next": <url>}}``; ``paging.next`` is absent on the last page (its URL carries the access token: it is never
followed nor kept, only the ``after`` cursor is). Times look like ``2026-01-05T08:12:00+0000``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.normalize import MalformedItem
from connectors.normalize import parse_time as iso_time

__all__ = ["MalformedItem", "fingerprint", "next_after", "page_items", "parse_time", "requested_fields"]


def parse_time(value: Any) -> datetime:
    """Parse Graph's ``2026-01-05T08:12:00+0000`` into an aware UTC datetime."""
    return iso_time(value, "created_time")


def page_items(page: Mapping[str, Any], what: str) -> list[Any]:
    """``data`` of a Graph list answer; raises :class:`MalformedItem` when it is not a list."""
    data = page.get("data", [])
    if not isinstance(data, list):
        raise MalformedItem(f"{what}: 'data' is not a list")
    return data


def next_after(page: Mapping[str, Any]) -> str | None:
    """The ``after`` cursor when Graph says there is a next page (``paging.next`` present), else None."""
    paging = page.get("paging")
    if not isinstance(paging, Mapping) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    return str(after) if after else None


def fingerprint(item: Mapping[str, Any], key: str) -> str:
    """A short hash of the visible text ``item[key]``, to notice edits without keeping the text in the cursor."""
    return hashlib.sha1(str(item.get(key) or "").encode("utf-8")).hexdigest()[:10]  # noqa: S324


def _split(spec: str) -> list[str]:
    """Top-level comma-separated parts of a ``fields=`` value (commas inside ``{}`` and ``()`` kept)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(spec):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(spec[start:i])
            start = i + 1
    parts.append(spec[start:])
    return [p.strip() for p in parts if p.strip()]


def requested_fields(spec: str) -> dict[str, dict[str, Any]]:
    """A Graph ``fields=`` value as a tree: each field asked for → the subfields asked for (``{}``: the whole
    value). ``comments.filter(stream).limit(5){id,message}`` → ``{"comments": {"id": {}, "message": {}}}``.
    docs/connectors.md lists them per endpoint; a test checks the normalisers read nothing else."""
    tree: dict[str, dict[str, Any]] = {}
    for part in _split(spec):
        name = part
        for stop in ".{(":
            name = name.split(stop, 1)[0]
        inner = part[part.index("{") + 1:part.rindex("}")] if "{" in part and part.endswith("}") else ""
        tree[name] = requested_fields(inner) if inner else {}
    return tree
