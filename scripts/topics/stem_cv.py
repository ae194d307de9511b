"""Decision 0320: French Snowball stemming of the topic TF-IDF words, on the many-topic CV of ``bench topics``.

Exactly the protocol of decision 0300 / ``bench topics``: the same 10 halves (``console.bench.topics.halves``, 5
seeds, both ways round), the projection fitted on the choosing half only, its grid point and cut chosen by
``choose_projected``'s inner split, read on the held-out half grouped alone (``cross_validate_projected``). Printed
per method: mean ± sd (min) over the 10 held-out halves, the paired difference with the shipped method (0300) on
the same halves (mean, standard error, better / worse), and the whole set (``choose_projected`` on all 34 topics,
read on all 404 messages: optimistic, as in 0275 / 0300). The unseen set is not read here.

    nice -n 5 python -m scripts.topics.stem_cv [shipped] [stemmed] [stemmed65]

``stemmed``: the TF-IDF words stemmed, :data:`console.bench.topics.PROJECTED_GRID` (the candidate of decision
0320); ``stemmed65``: the same with a TF-IDF weight of 0.65 added to the grid. Results go to
``data/cache/stem_cv-<method>.json`` so that methods can run apart; the paired line needs ``shipped`` first.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from typing import Any

import numpy as np

from console.bench import topics as bench
from scripts.topics.vectors import CACHE
from scripts.topics.vectors import matrix as cached_matrix

GRID_65 = tuple(itertools.product((0.2, 0.35, 0.5, 0.65), (0.25, 0.5), (0.1, 0.3, 1.0, 3.0), (0.0, 0.3)))
METHODS: dict[str, dict[str, Any]] = {
    "shipped": {"stemmed": False, "grid": bench.PROJECTED_GRID},
    "stemmed": {"stemmed": True, "grid": bench.PROJECTED_GRID},
    "stemmed65": {"stemmed": True, "grid": GRID_65},
}


def run(name: str) -> dict[str, Any]:
    texts, truth = bench.labelled()
    m = cached_matrix()
    opts = METHODS[name]
    start = time.perf_counter()
    both_ways = [split for a, b in bench.halves(truth, repeats=5) for split in ((a, b), (b, a))]
    many = bench.cross_validate_projected(texts, truth, m, both_ways, **opts)
    everything = list(range(len(texts)))
    key = bench.choose_projected(texts, truth, m, **opts)
    whole = bench.read_projected(key, texts, truth, m, everything, everything, stemmed=opts["stemmed"])
    out = {"name": name, "aris": many["aris"], "mean": many["mean"], "std": many["std"], "whole": round(whole, 4),
           "whole_key": list(key), "picks": [p["params"] for p in many["per"]],
           "seconds": round(time.perf_counter() - start)}
    (CACHE / f"stem_cv-{name}.json").write_text(json.dumps(out, indent=1))
    return out


def report(out: dict[str, Any]) -> None:
    h = np.array(out["aris"])
    line = (f"{out['name']:10s} {h.mean():.4f} ± {h.std():.4f} (min {h.min():.4f})  whole {out['whole']:.4f} "
            f"{tuple(out['whole_key'])}")
    base = CACHE / "stem_cv-shipped.json"
    if out["name"] != "shipped" and base.exists():
        diff = h - np.array(json.loads(base.read_text())["aris"])
        se = diff.std(ddof=1) / len(diff) ** 0.5
        line += (f"  Δ {diff.mean():+.4f} (se {se:.4f}; better {int((diff > 0.0005).sum())}, "
                 f"worse {int((diff < -0.0005).sum())})")
    print(line, f"[{out['seconds']} s]", flush=True)
    print("   halves", " ".join(f"{x:.4f}" for x in h), flush=True)
    print("   picks (w, e5, λ, shared, cut)", [(p["tfidf_weight"], p["e5_share"], p["shrinkage"], p["shared_weight"],
                                               p["threshold"]) for p in out["picks"]], flush=True)


if __name__ == "__main__":
    for method in sys.argv[1:] or ["shipped", "stemmed"]:
        report(run(method))
