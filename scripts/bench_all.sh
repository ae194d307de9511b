#!/usr/bin/env bash
# Run every benchmark at the sizes the issues set, one JSON line each, into bench-out/ (see BENCHMARKS.md).
# Takes about 15 minutes on the 2-core reference machine; run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
run() { local name=$1; shift; echo "== $name: $*" >&2; "$PY" -m console bench "$@" --json | tee "$OUT/$name.json"; }
# The machine's own speed varies over the day (a shared VM): a fixed pure-Python loop, timed before and after,
# tells whether a run was made on a fast or a slow moment (BENCHMARKS.md quotes it).
probe() { "$PY" -c 'import json,time; t=time.perf_counter(); s=0
for i in range(20_000_000): s += i
print(json.dumps({"cpu_probe_s": round(time.perf_counter() - t, 2)}))' | tee "$OUT/probe-$1.json"; }
probe before
run storage storage --mentions 1000000
run sync sync --mentions 10000
run realtime realtime --events 50 --poll-events 20
run score score
run charter charter
run audit audit --events 20000  # one fsync per event (decision 0095): 1 M would take over an hour
run publish publish --posts 10000
run publish-late publish --posts 10000 --late-share 0.2
run idle idle --seconds 60
run dashboard dashboard --mentions 1000000
run ui ui --mentions 100000 --clicks 30  # the console in Chromium (issue #17)
PARVIS_PAGE_BENCH=100000 PARVIS_PAGE_BENCH_OUT="$OUT/page.json" "$PY" -m pytest -q --e2e -s \
  tests/e2e/test_inbox_browser.py -k render_benchmark >&2
cat "$OUT/page.json"; echo
probe after
