"""``/metrics``: the values of services/operations/metrics.py in the Prometheus text format (prometheus_client).

Every series is named ``parvis_*`` and read fresh from the database at each scrape (a custom collector, no
counters kept in the process: the console may restart, the numbers live in the database). The table of the
series is in docs/operations.md; a test checks that every series rendered is documented there.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric

from services.operations.metrics import Snapshot

CONTENT_TYPE = CONTENT_TYPE_LATEST
_INF = math.inf


def families(snap: Snapshot) -> Iterator[Metric]:
    """The metric families of one snapshot."""
    info = InfoMetricFamily("parvis_build", "Version of Parvis and of its database schema.",
                            labels=["version", "schema"])
    info.add_metric([snap.version, str(snap.schema_version)], {})
    yield info

    ingested = CounterMetricFamily("parvis_mentions_ingested", "Mentions fetched and stored (new or updated) by "
                                   "each connector since the database was created.", labels=["connector"])
    lag = GaugeMetricFamily("parvis_connector_sync_lag_seconds", "Seconds since each connector last synced "
                            "(+Inf: never).", labels=["connector"])
    up = GaugeMetricFamily("parvis_connector_up", "1 when the connector's last sync succeeded, else 0.",
                           labels=["connector"])
    error = GaugeMetricFamily("parvis_connector_last_error", "1 for the error code of the connector's last "
                              "failed sync (absent when it succeeded).", labels=["connector", "status", "code"])
    for c in snap.connectors:
        ingested.add_metric([c.name], c.ingested_total)
        lag.add_metric([c.name], _INF if c.last_sync_age_s is None else c.last_sync_age_s)
        up.add_metric([c.name], 1.0 if c.status == "ok" else 0.0)
        if c.error_code:
            error.add_metric([c.name, c.status, c.error_code], 1.0)
    yield from (ingested, lag, up, error)

    stored = GaugeMetricFamily("parvis_mentions_stored", "Mentions in the database, by platform.",
                               labels=["platform"])
    for platform, n in sorted(snap.mentions_per_platform.items()):
        stored.add_metric([platform], n)
    yield stored

    open_items = GaugeMetricFamily("parvis_open_items", "Open inbox items (new, assigned, waiting, escalated) "
                                   "by priority band.", labels=["band"])
    for band, n in snap.open_by_band.items():
        open_items.add_metric([band], n)
    yield open_items

    size = GaugeMetricFamily("parvis_outbox_queue_size", "Items in the outbox, by kind and state.",
                             labels=["kind", "state"])
    oldest = GaugeMetricFamily("parvis_outbox_oldest_age_seconds", "How long the oldest item of each outbox "
                               "queue has waited (for pending posts and scheduled replies: since it was due).",
                               labels=["kind", "state"])
    for q in snap.queues:
        size.add_metric([q.kind, q.state], q.size)
        oldest.add_metric([q.kind, q.state], q.oldest_age_s)
    yield from (size, oldest)

    late = GaugeMetricFamily("parvis_publish_lateness_seconds", "Largest delay between due time and publication "
                             "among the posts and replies published in the last hour (0: none late or none "
                             "published).", labels=["kind"])
    for kind, value in sorted(snap.lateness_s.items()):
        late.add_metric([kind], max(0.0, value or 0.0))
    yield late

    yield GaugeMetricFamily("parvis_worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat "
                            "(+Inf: never).", value=_INF if snap.worker_beat_age_s is None else snap.worker_beat_age_s)
    yield GaugeMetricFamily("parvis_audit_chain_head_id", "Id of the last row of the audit hash chain.",
                            value=snap.audit_head_id)
    yield GaugeMetricFamily("parvis_backup_age_seconds", "Seconds since the newest backup (+Inf: none).",
                            value=_INF if snap.backup_age_s is None else snap.backup_age_s)
    yield GaugeMetricFamily("parvis_database_size_bytes", "Size of the database file and its write-ahead log.",
                            value=snap.database_bytes)


class _SnapshotCollector:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snap)


def render(snap: Snapshot, *, process: bool = True) -> bytes:
    """The text exposition of ``snap`` (plus ``parvis_process_*``: this process's CPU, memory, open files)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap))
    if process:
        ProcessCollector(namespace="parvis", registry=registry)
    return generate_latest(registry)
