"""A fake of Meta's Conversations API and Send API (Messenger and Instagram Direct) on top of the fake Graph API.

Shapes as Meta documents them: ``GET /{page-id}/conversations?platform=messenger|instagram&fields=participants,
updated_time,messages{id,message,from,created_time}`` answers ``{"data": [{"id": "t_…", "updated_time",
"participants": {"data": [...]}, "messages": {"data": [...], "paging": {...}}}], "paging": {"cursors": {"before",
"after"}, "next"?}}`` (newest ``updated_time`` first); ``GET /{conversation-id}/messages``; ``POST
/{page-id}/messages`` with form fields ``recipient`` (JSON), ``message`` (JSON), ``messaging_type`` and ``tag``
answers ``{"recipient_id", "message_id": "m_…"}``, or error 10 / subcode 2018278 outside the window.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from werkzeug import Request, Response

from tests.fakes.base import json_response
from tests.fakes.graph_api import FakeGraphApi, graph_error, graph_time

WINDOW_MESSAGE = "(#10) This message is sent outside of allowed window."


class FakeConversationsApi(FakeGraphApi):
    """The fake Graph API plus the Page's conversations (per platform) and the Send API."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversations: dict[str, dict[str, Any]] = {}  # id -> {"platform", "user", "messages": [...]}
        self.sent: list[dict[str, str]] = []  # form bodies of POST /{page}/messages
        self.human_agent = False  # the Page has the Human Agent permission

    def add_message(self, text: str, *, user: tuple[str, str] = ("2400000000000001", "Camille Martin"),
                    platform: str = "messenger", at: datetime | None = None, from_page: bool = False) -> str:
        """A message in the user's conversation (created on first use); returns the message id."""
        convo_id = next((cid for cid, c in self.conversations.items()
                         if c["user"][0] == user[0] and c["platform"] == platform), None)
        if convo_id is None:
            convo_id = f"t_{self._id()}"
            self.conversations[convo_id] = {"platform": platform, "user": user, "messages": []}
        sender = (self.page_id, self.page_name) if from_page else user
        key = "username" if platform == "instagram" else "name"
        mid = f"m_{self._id()}AbC"
        self.conversations[convo_id]["messages"].append(
            {"id": mid, "message": text, "from": {key: sender[1], "id": sender[0]}, "created_time": self._tick(at),
             "_at": self._clock})
        return mid

    def conversation_of(self, user_id: str) -> str:
        """The conversation id of a user."""
        return next(cid for cid, c in self.conversations.items() if c["user"][0] == user_id)

    def _view(self, cid: str) -> dict[str, Any]:
        c = self.conversations[cid]
        key = "username" if c["platform"] == "instagram" else "name"
        messages = sorted(c["messages"], key=lambda m: m["created_time"], reverse=True)
        return {"id": cid, "updated_time": messages[0]["created_time"] if messages else graph_time(self._clock),
                "participants": {"data": [{key: c["user"][1], "id": c["user"][0]},
                                          {key: self.page_name, "id": self.page_id}]},
                "messages": self._paged([{k: v for k, v in m.items() if k != "_at"} for m in messages], {}, 25,
                                        f"{cid}/messages")}

    def handle(self, request: Request) -> Response:
        """Conversations and Send API routes; everything else is the fake Graph API's."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return super().handle(request)
        match = re.fullmatch(rf"/{re.escape(self.version)}/([\w.]+)(?:/(\w+))?", request.path)
        if not match:
            return super().handle(request)
        obj, edge, method = match[1], match[2], request.method
        args, form = dict(request.args.items()), dict(request.form.items())
        if method == "GET" and obj == self.page_id and edge == "conversations":
            if args.get("platform") not in ("messenger", "instagram"):
                return json_response(graph_error(100, "(#100) Param platform must be one of {MESSENGER, "
                                                      "INSTAGRAM}"), 400)
            views = [self._view(cid) for cid, c in self.conversations.items() if c["platform"] == args["platform"]]
            views.sort(key=lambda v: v["updated_time"], reverse=True)
            return self._failure("conversations") or json_response(
                self._paged(views, args, int(args.get("limit", 25)), f"{obj}/conversations"))
        if method == "GET" and obj in self.conversations and edge == "messages":
            return json_response(self._view(obj)["messages"])
        if method == "POST" and obj == self.page_id and edge == "messages":
            return self._send(form)
        return super().handle(request)

    def _send(self, form: dict[str, str]) -> Response:
        failure = self._failure("send")
        if failure:
            return failure
        recipient = json.loads(form.get("recipient") or "{}").get("id")
        message = json.loads(form.get("message") or "{}")
        convo = next((cid for cid, c in self.conversations.items() if c["user"][0] == recipient), None)
        if not recipient or convo is None:
            return json_response(graph_error(100, "(#100) No matching user found", subcode=2018001), 400)
        last = max((m["_at"] for m in self.conversations[convo]["messages"] if m["from"]["id"] == recipient),
                   default=None)
        age = self._clock - last if last else timedelta(0)
        tagged = form.get("messaging_type") == "MESSAGE_TAG" and form.get("tag") == "HUMAN_AGENT"
        if age > timedelta(hours=24) and not (tagged and self.human_agent and age <= timedelta(days=7)):
            return json_response(graph_error(10, WINDOW_MESSAGE, subcode=2018278), 400)
        self.sent.append(form)
        mid = self.add_message(str(message.get("text", "")), user=self.conversations[convo]["user"],
                               platform=self.conversations[convo]["platform"], from_page=True,
                               at=self._clock + timedelta(seconds=1))
        return json_response({"recipient_id": recipient, "message_id": mid})
