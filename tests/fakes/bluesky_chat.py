"""A fake of Bluesky chat (``chat.bsky.convo.*``) on top of the fake PDS: reached through the PDS with the
``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` header (refused without it, as the PDS cannot route it), convo
ids and cursors as the lexicons describe (messages newest first, ``cursor`` while more remain)."""

from __future__ import annotations

import re
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import json_response
from tests.fakes.bluesky_api import FakeBlueskyApi, at_time, xrpc_error

PROXY = "did:web:api.bsky.chat#bsky_chat"


class FakeBlueskyChatApi(FakeBlueskyApi):
    """The fake PDS plus the chat service's convos."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.convos: dict[str, dict[str, Any]] = {}  # id -> {"members": [...], "messages": [...] oldest first}
        self.sent: list[dict[str, Any]] = []
        self.dm_allowed = True  # the app password allows direct messages

    def add_chat(self, text: str, *, handle: str = "camille.bsky.social") -> str:
        """A resident's chat message (their convo created on first use); returns the convo id."""
        did = self.accounts.setdefault(handle, f"did:plc:{handle.split('.')[0][:10]:0<24}")
        convo = next((cid for cid, c in self.convos.items() if any(m["did"] == did for m in c["members"])), None)
        if convo is None:
            convo = f"3l{self._rkey()}"
            self.convos[convo] = {"members": [{"did": self.did, "handle": self.account_handle},
                                              {"did": did, "handle": handle, "displayName": handle.split(".")[0]}],
                                  "messages": []}
        self._message(convo, did, text)
        return convo

    def _message(self, convo: str, did: str, text: str) -> dict[str, Any]:
        self._n += 1
        message = {"$type": "chat.bsky.convo.defs#messageView", "id": f"msg{self._n:08d}", "rev": f"rev{self._n:08d}",
                   "text": text, "sender": {"did": did}, "sentAt": at_time(self._clock)}
        self.convos[convo]["messages"].append(message)
        return message

    def handle(self, request: Request) -> Response:
        """Chat routes (proxied through the PDS); everything else is the fake PDS's."""
        match = re.fullmatch(r"/xrpc/(chat\.bsky\.convo\.\w+)", request.path)
        if not match:
            return super().handle(request)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return xrpc_error("ExpiredToken", "Token has expired", 400)
        if request.headers.get("atproto-proxy") != PROXY:
            return xrpc_error("InvalidRequest", "Method not found (no atproto-proxy to the chat service)", 400)
        if not self.dm_allowed:
            return xrpc_error("InvalidToken", "Bad token scope", 400)
        nsid, args = match[1], request.args
        failure = self._failure(nsid.rsplit(".", 1)[-1])
        if failure:
            return failure
        if nsid == "chat.bsky.convo.listConvos":
            views = [{"id": cid, "rev": c["messages"][-1]["rev"] if c["messages"] else "0", "members": c["members"],
                      "lastMessage": c["messages"][-1] if c["messages"] else None, "muted": False,
                      "unreadCount": 1, "status": "accepted"} for cid, c in self.convos.items()]
            views.sort(key=lambda v: v["rev"], reverse=True)
            return json_response(self._page("convos", views, args))
        if nsid == "chat.bsky.convo.getMessages":
            convo = self.convos.get(str(args.get("convoId")))
            if convo is None:
                return xrpc_error("InvalidRequest", "Convo not found", 400)
            return json_response(self._page("messages", list(reversed(convo["messages"])), args))
        if nsid == "chat.bsky.convo.sendMessage":
            body = request.get_json(silent=True) or {}
            convo_id = str(body.get("convoId"))
            if convo_id not in self.convos:
                return xrpc_error("InvalidRequest", "Convo not found", 400)
            self.sent.append(body)
            return json_response(self._message(convo_id, self.did, str((body.get("message") or {}).get("text", ""))))
        return xrpc_error("MethodNotImplemented", "Method Not Implemented", 501)

    @staticmethod
    def _page(key: str, items: list[dict[str, Any]], args: Any) -> dict[str, Any]:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit", 50))
        page: dict[str, Any] = {key: items[start:start + limit]}
        if start + limit < len(items):
            page["cursor"] = str(start + limit)
        return page
