"""Mastodon ``direct`` statuses as private conversations (issue #20).

A status with ``visibility: "direct"`` is seen only by the accounts it mentions: Parvis stores it as a private
message (:func:`mark_direct`, applied to every fetched batch by the ingest service), its conversation being the
thread's root (``in_reply_to_id`` chain, else the status itself). An answer (:func:`reply_direct`) keeps
``visibility=direct`` and addresses exactly the participants: the author and the other accounts the status
mentions, never the city's own account and nobody else — a public answer would publish the resident's words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.errors import MalformedPayload
from core.models import PRIVATE_KIND, Mention, Platform, Published

DIRECT = "direct"


def is_direct(mention: Mention) -> bool:
    """Whether a Mastodon mention is a ``direct`` status."""
    return mention.platform is Platform.MASTODON and mention.raw.get("visibility") == DIRECT


def mark_direct(mentions: list[Mention] | tuple[Mention, ...]) -> list[Mention]:
    """The batch with its ``direct`` statuses turned into private messages (kind ``private``, the conversation
    id kept, else the status replied to, else the status itself)."""
    out = []
    for m in mentions:
        if is_direct(m) and not m.private:
            conversation = m.conversation_id or m.in_reply_to or m.platform_id
            m = replace(m, kind=PRIVATE_KIND, conversation_id=conversation)
        out.append(m)
    return out


def participants(mention: Mention, *, own_id: str = "") -> list[str]:
    """The ``acct`` of everyone the direct status addresses (its author and the accounts it mentions), author
    first, the city's own account (``own_id``) left out."""
    found: list[str] = []
    account = mention.raw.get("account") or {}
    people = [(str(account.get("id") or mention.author.platform_id), str(account.get("acct") or mention.author.handle))]
    people += [(str(m.get("id") or ""), str(m.get("acct") or "")) for m in mention.raw.get("mentions") or ()
               if isinstance(m, dict)]
    for account_id, acct in people:
        acct = acct.lstrip("@")
        if acct and account_id != own_id and acct not in found:
            found.append(acct)
    return found


def direct_text(mention: Mention, text: str, *, own_id: str = "") -> str:
    """``text`` prefixed with the mentions of exactly the participants (those already in it are not repeated)."""
    missing = [f"@{a}" for a in participants(mention, own_id=own_id) if f"@{a}" not in text.split()]
    return " ".join([*missing, text]) if missing else text


def reply_direct(connector: Any, mention: Mention, text: str) -> Published:
    """Answer a direct status with a direct status to exactly its participants (``POST /api/v1/statuses``,
    ``visibility=direct``, ``in_reply_to_id``, an idempotency key)."""
    from connectors.mastodon.connector import idempotency_key

    own = str(connector._account_id())  # noqa: SLF001
    body = direct_text(mention, text, own_id=own)
    endpoint = "POST /api/v1/statuses"
    key = idempotency_key("direct", connector.name, mention.platform_id, text)
    answer = connector._call(endpoint, connector._api.status_post, body,  # noqa: SLF001
                             in_reply_to_id=mention.platform_id, visibility=DIRECT, idempotency_key=key)
    if not isinstance(answer, dict) or not answer.get("id"):
        raise MalformedPayload(f"{endpoint}: no id in the answer")
    if answer.get("visibility", DIRECT) != DIRECT:
        raise MalformedPayload(f"{endpoint}: the instance did not keep the answer direct")
    return Published(platform_id=str(answer["id"]), permalink=answer.get("url") or answer.get("uri"))
