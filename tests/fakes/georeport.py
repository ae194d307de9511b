"""A fake Open311 GeoReport v2 back office (pytest-httpserver), following the specification
(https://wiki.open311.org/GeoReport_v2): ``services.json``, ``requests.json`` (GET and POST), ``tokens/{token}.json``,
``requests/{id}.json``; errors as an array ``[{"code": 400, "description": "..."}]``; 403 for a bad ``api_key``.
The test moves a request along (:meth:`FakeGeoReport.set_status`) as the city's crew would."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from pytest_httpserver import URIPattern
from werkzeug import Request, Response

SERVICES = [
    {"service_code": "VOI-01", "service_name": "Voirie - nids-de-poule", "description": "Chaussée", "metadata": False,
     "type": "realtime", "keywords": "voirie,chaussée", "group": "Voirie"},
    {"service_code": "ARB-02", "service_name": "Arbre tombé", "description": "Espaces verts", "metadata": False,
     "type": "realtime", "keywords": "arbre", "group": "Espaces verts"},
]


def _error(code: int, description: str) -> Response:
    return Response(json.dumps([{"code": code, "description": description}]), status=code,
                    content_type="application/json")


class FakeGeoReport:
    """State and handlers of the fake back office."""

    def __init__(self, *, api_key: str = "key-311", jurisdiction: str = "valmont.fr", tokens: bool = False) -> None:
        self.api_key, self.jurisdiction, self.tokens = api_key, jurisdiction, tokens
        self.requests: dict[str, dict[str, Any]] = {}
        self.pending_tokens: dict[str, str] = {}  # token -> id once assigned
        self.posts: list[dict[str, str]] = []
        self.service_gets = 0
        self._ids = itertools.count(1001)

    def install(self, httpserver, base: str = "/open311/v2") -> str:
        httpserver.expect_request(f"{base}/services.json", method="GET").respond_with_handler(self.services)
        httpserver.expect_request(f"{base}/requests.json", method="POST").respond_with_handler(self.post)
        httpserver.expect_request(f"{base}/requests.json", method="GET").respond_with_handler(self.search)
        httpserver.expect_request(_Prefix(f"{base}/tokens/"), method="GET").respond_with_handler(self.token)
        httpserver.expect_request(_Prefix(f"{base}/requests/"), method="GET").respond_with_handler(self.one)
        return httpserver.url_for(base)

    def _jurisdiction_ok(self, values) -> bool:
        return values.get("jurisdiction_id") == self.jurisdiction

    def services(self, request: Request) -> Response:
        self.service_gets += 1
        if not self._jurisdiction_ok(request.args):
            return _error(404, "jurisdiction_id not found")
        return Response(json.dumps(SERVICES), content_type="application/json")

    def post(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.posts.append(form)
        if form.get("api_key") != self.api_key:
            return _error(403, "api_key is invalid")
        if not self._jurisdiction_ok(form):
            return _error(404, "jurisdiction_id not found")
        if form.get("service_code") not in {s["service_code"] for s in SERVICES}:
            return _error(400, "service_code not found")
        if not (form.get("lat") and form.get("long")) and not form.get("address_string") and \
                not form.get("address_id"):
            return _error(400, "a location is required: lat/long, address_string or address_id")
        sr_id = str(next(self._ids))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.requests[sr_id] = {"service_request_id": sr_id, "status": "open", "status_notes": None,
                                "service_code": form["service_code"], "description": form.get("description", ""),
                                "requested_datetime": now, "updated_datetime": now,
                                "address": form.get("address_string", ""), "lat": form.get("lat"),
                                "long": form.get("long"), "media_url": form.get("media_url")}
        if self.tokens:
            token = f"tok-{sr_id}"
            self.pending_tokens[token] = sr_id
            return Response(json.dumps([{"token": token}]), status=201, content_type="application/json")
        return Response(json.dumps([{"service_request_id": sr_id, "service_notice": "Merci"}]), status=201,
                        content_type="application/json")

    def search(self, request: Request) -> Response:
        code = request.args.get("service_code")
        found = [r for r in self.requests.values() if code is None or r["service_code"] == code]
        return Response(json.dumps(found), content_type="application/json")

    def token(self, request: Request) -> Response:
        token = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        if token not in self.pending_tokens:
            return _error(404, "token not found")
        return Response(json.dumps([{"token": token, "service_request_id": self.pending_tokens[token]}]),
                        content_type="application/json")

    def one(self, request: Request) -> Response:
        sr_id = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        if sr_id not in self.requests:
            return _error(404, "service_request_id not found")
        return Response(json.dumps([self.requests[sr_id]]), content_type="application/json")

    def set_status(self, sr_id: str, status: str, notes: str = "") -> None:
        """The crew moves the request along (``open`` with notes: in progress; ``closed``: resolved)."""
        self.requests[sr_id].update(status=status, status_notes=notes or None,
                                    updated_datetime=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


class _Prefix(URIPattern):
    """A URI matcher for pytest-httpserver: every path starting with this prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)
