"""The demo sandbox's outbox: an append-only JSONL file (or a list in memory) of what Parvis "sent"."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.demo.errors import outbox_error

try:  # POSIX: serialise numbering + append across processes (the UI and the worker both send)
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process at a time is assumed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
FILENAME = "demo-outbox.jsonl"


class Outbox:
    """Numbered, append-only action log; ``path`` None keeps it in memory (tests)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def append(self, build: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Write ``build(n)`` as action number ``n`` (1, 2, ...) and return it; one line per action."""
        with self._lock:
            if self.path is None:
                record = build(len(self._memory) + 1)
                self._memory.append(record)
                return record
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a+", encoding="utf-8") as fh:
                    if fcntl is not None:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                    fh.seek(0)
                    record = build(sum(1 for _ in fh) + 1)
                    fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                    fh.flush()
            except OSError as err:
                raise outbox_error("write", self.path, err) from err
            return record

    def read(self) -> list[dict[str, Any]]:
        """Every recorded action, oldest first (an unreadable line is skipped and logged)."""
        if self.path is None:
            with self._lock:
                return [dict(r) for r in self._memory]
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise outbox_error("read", self.path, err) from err
        out = []
        for no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning("%s:%d: unreadable outbox line skipped", self.path, no)
        return out
