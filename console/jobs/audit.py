"""The worker's audit job: a signed checkpoint of the audit chain, outside the database, when its head moved.

Every ``PARVIS_AUDIT_CHECKPOINT_INTERVAL_MIN`` minutes (default 60), and once when the worker starts; nothing is
written when no event was appended since the latest checkpoint. A chain that does not extend the latest checkpoint
is refused and logged as an error at each attempt (services/archive/checkpoints.py, docs/audit.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from services.archive import checkpoints

log = logging.getLogger("parvis.worker.audit")
JOB_NAME = "audit-checkpoint"


def interval_s(settings: Settings) -> int:
    """Seconds between two checkpoints."""
    return max(1, settings.audit.checkpoint_interval_min) * 60


def checkpoint_job(settings: Settings, *, clock: Clock = utcnow) -> Callable[[], None]:
    """A job that checkpoints the chain when its head moved since the latest checkpoint."""
    def run() -> None:
        taken = checkpoints.take(settings, now=clock(), only_if_moved=True)
        if taken is not None:
            log.info("audit checkpoint: event #%d in %s", taken.head_id, taken.path)
    return guarded(JOB_NAME, run)
