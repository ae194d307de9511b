"""``bench realtime`` runs end to end on the fakes (small sizes) and reports the keys issue #19 asks for."""

from __future__ import annotations

from console.bench import realtime


def test_bench_realtime_reports_latencies_and_no_duplicates():
    out = realtime.run(events=3, poll_events=2, poll_interval_s=1.0)
    for key in ("webhook_p50_s", "webhook_p95_s", "stream_p95_s", "polling_p95_s", "duplicates"):
        assert key in out
    assert out["lost"] == 0 and out["duplicates"] == 0 and out["replays_ignored"] == 3
    assert out["stored"] == 3 + 3 + 2
    assert all(out[k] is not None for k in ("webhook_p95_s", "stream_p95_s", "polling_p95_s"))  # no timing asserted


def test_percentile():
    assert realtime.percentile([], 0.5) is None
    assert realtime.percentile([2.0], 0.95) == 2.0
    assert realtime.percentile([float(i) for i in range(1, 101)], 0.95) == 95.05
