"""Shared plumbing of the fake platform servers: request log, failure injection, installation."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Failure:
    """One canned failure: HTTP status, JSON body (or raw bytes), headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def response(self) -> Response:
        """The Werkzeug response for this failure."""
        data = self.raw if self.raw is not None else json.dumps(self.body if self.body is not None else {})
        return Response(data, status=self.status, headers=self.headers, content_type="application/json")


@dataclass(frozen=True)
class Call:
    """A snapshot of one request the fake received."""

    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    body: bytes
    query: str = ""  # the raw query string (``args`` keeps one value per key)

    def json(self) -> Any:
        """The request body parsed as JSON (None if it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class FakeBase:
    """Request log, failure injection and installation shared by the fakes."""

    def __init__(self) -> None:
        self.requests: list[Call] = []
        self._failures: dict[str, list[Failure | None]] = {}  # None: answer that call normally

    def fail(self, route: str, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
             times: int = 1, raw: bytes | None = None, after: int = 0) -> None:
        """Make ``times`` calls to ``route`` answer ``status`` with ``body`` (or ``raw`` bytes), once ``after``
        calls have been answered normally."""
        queue = self._failures.setdefault(route, [])
        queue.extend([None] * after)
        queue.extend(Failure(status=status, body=body, headers=dict(headers or {}), raw=raw) for _ in range(times))

    def _failure(self, route: str) -> Response | None:
        queue = self._failures.get(route)
        failure = queue.pop(0) if queue else None
        return failure.response() if failure else None

    def calls(self, route_pattern: str, method: str | None = None) -> list[Call]:
        """Logged requests whose path matches ``route_pattern`` (a regex)."""
        return [r for r in self.requests if re.search(route_pattern, r.path) and (method in (None, r.method))]

    def handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        """Answer one request."""
        raise NotImplementedError

    def _dispatch(self, request: Request) -> Response:
        body = request.get_data(cache=True, parse_form_data=True)
        self.requests.append(Call(method=request.method, path=request.path, args=dict(request.args.items()),
                                  headers=dict(request.headers.items()), form=dict(request.form.items()),
                                  body=body, query=request.query_string.decode("latin-1")))
        return self.handle(request)

    def install(self, server: HTTPServer) -> str:
        """Answer every request ``server`` receives; returns the base URL to give the connector."""
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._dispatch)
        return server.url_for("/").rstrip("/")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response as the platforms send it."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers or {},
                    content_type="application/json; charset=UTF-8")


class _Installable(Protocol):
    def install(self, server: HTTPServer) -> str: ...


@contextmanager
def serve(fake: _Installable, host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[Any, str]]:
    """Run ``fake`` on its own local server (for benchmarks and scripts): yields ``(fake, base_url)``."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    server = HTTPServer(host=host, port=port)
    server.start()
    try:
        yield fake, fake.install(server)
    finally:
        server.clear()
        if server.is_running():
            server.stop()
