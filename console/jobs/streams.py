"""The worker's live streams: one supervised background thread per Mastodon connector
(services/connections/streaming.py, ``PARVIS_MASTODON_STREAMING``), and the gate that runs that connector's
polling less often while its stream is up (``PARVIS_MASTODON_STREAM_POLL_S``; every sync interval while down)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from connectors.base import Connector
from console.jobs.base import guarded
from core.clock import Clock, utcnow
from core.config import Settings
from core.models import Platform
from services.connections.ingest import ScoreFn
from services.connections.streaming import CHECK_EVERY_S, Streamable, StreamSupervisor

__all__ = ["CHECK_EVERY_S", "gated", "job_name", "supervisors"]


def job_name(connector: Connector) -> str:
    """The job that keeps ``connector``'s stream running."""
    return f"stream:{connector.name}"


def supervisors(settings: Settings, connectors: Sequence[Connector], *, clock: Clock = utcnow,
                score: ScoreFn | None = None) -> dict[str, StreamSupervisor]:
    """A stream supervisor per streamed connector (Mastodon, when streaming is on), by connector name."""
    if not settings.mastodon.streaming:
        return {}
    return {c.name: StreamSupervisor(settings.db_path, cast(Streamable, c),
                                     poll_every_s=max(1, settings.sync.interval_s_for(c.name)),
                                     stream_poll_s=settings.mastodon.stream_poll_s, clock=clock, score=score)
            for c in connectors if c.info.platform == Platform.MASTODON and hasattr(c, "user_stream")}


def keep_running(supervisor: StreamSupervisor) -> Callable[[], None]:
    """The job: start the stream's thread, and start it again if it died."""
    return guarded(f"stream:{supervisor.connector.name}", supervisor.ensure_running)


def gated(run: Callable[[], None], supervisor: StreamSupervisor | None) -> Callable[[], None]:
    """``run`` (a connector's sync) only when its stream's supervisor says polling is due."""
    if supervisor is None:
        return run

    def maybe() -> None:
        if supervisor.poll_due():
            run()
    return maybe
