"""Bluesky blocks (the moderation queue's ban): an ``app.bsky.graph.block`` record in the city's repository.

A block is a public record ``{"$type": "app.bsky.graph.block", "subject": <did>, "createdAt": ...}`` created with
``com.atproto.repo.createRecord``; the blocked account can no longer reply to, quote, mention or follow the
city's account, and neither sees the other's posts. Lifting it deletes that record, found by listing the
repository's blocks (``com.atproto.repo.listRecords``, 100 a page, the walk of connectors/bluesky/lookups.py) —
the PDS alone, no AppView needed.
"""

from __future__ import annotations

from typing import Any

from connectors.bluesky.lookups import NSID, Query, records
from core.errors import PermanentFailure, Unavailable
from core.models import Author

BLOCK = "app.bsky.graph.block"
MAX_PAGES = 20  # 2,000 blocks: beyond that we cannot tell and say so


def subject(author: Author) -> str:
    """The DID to block (Bluesky authors are identified by their DID)."""
    did = str(author.platform_id or "")
    if not did.startswith("did:"):
        raise PermanentFailure(f"cannot block {author.handle or 'this account'}: no DID on the mention (re-sync it)")
    return did


def find(query: Query, repo: str, did: str) -> str | None:
    """The ``at://`` URI of the city's block of ``did``, or None."""
    walk = records(query, repo, BLOCK, max_pages=MAX_PAGES)
    for page in walk:
        for record in page["records"]:
            value = record.get("value") if isinstance(record, dict) else None
            if isinstance(value, dict) and value.get("subject") == did and isinstance(record.get("uri"), str):
                return str(record["uri"])
    if walk.done:
        return None
    raise Unavailable(f"{NSID}: more than {MAX_PAGES * 100} blocks, the block of {did} was not found")


def block_record(did: str, created_at: str) -> dict[str, Any]:
    """The ``app.bsky.graph.block`` record for ``did``."""
    return {"$type": BLOCK, "subject": did, "createdAt": created_at}
