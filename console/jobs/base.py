"""What every worker job shares: a crash is logged and the loop goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("parvis.worker")


def guarded(name: str, fn: Callable[[], object]) -> Callable[[], None]:
    """Run a job; a crash is logged and the loop goes on (a crashed job must not kill the worker)."""
    def run() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - top of a worker job: log and keep the loop alive
            log.exception("job %s crashed; will retry at its next interval", name)
    return run
