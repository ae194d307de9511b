"""Logging of every Parvis process: one line per event, plain text or JSON (``PARVIS_LOG_FORMAT=json``).

- One line per event: a traceback is kept in the same line (JSON field ``exc``; in text, newlines escaped), so
  journald, a log shipper or ``grep`` never splits an event.
- ``request_id``: the id of the HTTP request (or WebSocket session) being served, from the ``X-Request-Id``
  header or generated (console/web/middleware.py); it is on every line logged while serving it, and on the
  line of an unexpected console error beside its reference (``ERR-7F3A2C``, console/ui/page.py), so a
  reference read to the support desk leads to the log line, and from there to the session's requests.
- Never a secret: the values of secret-looking settings (``core.config.redact``'s rule) are masked in every
  line, whatever logged them. Never a resident's text at INFO: Parvis logs identifiers and counts only (the
  access log has no query string), and a test checks the lines of a sync and of HTTP requests.

Streamlit and uvicorn install handlers of their own; :func:`adopt_library_loggers` routes them through ours.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from core.config import Settings, is_secret_key
from core.errors import ConfigError

REQUEST_ID: ContextVar[str] = ContextVar("parvis_request_id", default="")
_LIBRARIES = ("streamlit", "uvicorn", "websockets", "watchdog")
_CHATTY = ("httpx", "httpcore", "httpx2", "httpcore2")
_MIN_SECRET_LEN = 6  # shorter values ("1", "true") would mask ordinary words
_secrets: set[str] = set()


def log_format(env: Mapping[str, str] | None = None) -> str:
    """``text`` (default) or ``json``, from ``PARVIS_LOG_FORMAT`` in the environment (read before any config file;
    an unknown value logs as text rather than stopping the command: ``settings`` reports it)."""
    try:
        return Settings.from_values(os.environ if env is None else env).operations.log_format
    except ConfigError:
        return "text"


def add_secrets(values: Iterable[Any]) -> None:
    """Mask these values in every log line from now on."""
    _secrets.update(str(v) for v in values if v is not None and len(str(v)) >= _MIN_SECRET_LEN)


def secrets_of(settings: Settings) -> list[str]:
    """The values of ``settings`` whose key looks secret (token, password, key...)."""
    return [str(v) for k, v in settings.values.items() if v not in (None, "") and is_secret_key(k)]


def mask(text: str) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _install_record_factory() -> None:
    """Every log record gets ``request_id`` (the one being served, '' outside a request), whatever handler
    prints it (ours, pytest's)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "parvis", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    factory.parvis = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


class _ContextFilter(logging.Filter):
    """Masks secrets in the message (args folded in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = mask(record.getMessage())
            record.args = None
        return True


def _exception_text(record: logging.LogRecord) -> str:
    if record.exc_info:
        return mask("".join(traceback.format_exception(*record.exc_info)).rstrip())
    return ""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, exc, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", "")
        if rid:
            event["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            event.update({k: v for k, v in fields.items() if k not in event})
        exc = _exception_text(record)
        if exc:
            event["exc"] = exc
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-11-23 10:00:00,123 INFO parvis.http [rid]: message``, newlines escaped (the record's ``fields``
    are in the JSON format only: the text message already says them)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        record.rid = f" [{rid}]" if rid else ""
        line = super().formatMessage(self._prepare(record))
        exc = _exception_text(record)
        if exc:
            line += " | " + exc
        return line.replace("\r", "\\r").replace("\n", "\\n")

    def _prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record)
        return record


def _is_ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, "parvis", False))


def configure(level: int = logging.INFO, *, fmt: str | None = None, stream: IO[str] | None = None,
              settings: Settings | None = None, force: bool = False) -> logging.Handler | None:
    """Install Parvis's handler on the root logger (replacing a previous one of ours) and return it.

    Like :func:`logging.basicConfig`, it leaves a root logger that someone else configured alone (pytest's
    capture, an embedding application) unless ``force``; the level and the secrets are set in any case.
    """
    root = logging.getLogger()
    root.setLevel(level)
    for name in _CHATTY:  # an INFO line per HTTP call, with its full URL: only at -v
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    if settings is not None:
        add_secrets(secrets_of(settings))
    if not force and any(not _is_ours(h) for h in root.handlers):
        return None
    fmt = fmt or log_format()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.parvis = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    for old in [h for h in root.handlers if _is_ours(h) or force]:
        root.removeHandler(old)
    root.addHandler(handler)
    return handler


def adopt_library_loggers() -> None:
    """Route Streamlit's, uvicorn's and websockets' loggers through Parvis's handler (their own handlers
    print another format, and uvicorn's access log would print query strings)."""
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] not in _LIBRARIES:
            continue
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # Parvis logs each request itself (parvis.http)
