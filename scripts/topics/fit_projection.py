"""Fit the shipped topic projection (decision 0300) on all labelled topics and write
``moderation/models/topic_projection.npz``.

The e5 share and shrinkage are those the many-topic choice rule picks on all 34 topics
(decision 0320, TF-IDF words stemmed: ``python -m scripts.topics.stem_cv stemmed``, « whole » line; also
``moderation.topics.FUSED``'s other parameters; decision 0300 picked λ 3 without stemming). Same data, same bytes.

    nice -n 5 python -m scripts.topics.fit_projection
"""

from __future__ import annotations

from console.bench import topics as bench
from moderation import topics
from scripts.topics.vectors import matrix as cached_matrix

E5_SHARE = 0.25
SHRINKAGE = 1.0  # decision 0320 (3.0 in decision 0300)


def main() -> None:
    texts, truth = bench.labelled()
    m = cached_matrix()
    projection = topics.fit_projection(m, [None if t.startswith("seul-") else t for t in truth],
                                       e5_share=E5_SHARE, shrinkage=SHRINKAGE)
    projection.save(topics.PROJECTION_PATH)
    print(topics.PROJECTION_PATH, topics.PROJECTION_PATH.stat().st_size, "bytes,", projection.basis.shape[1],
          "directions")


if __name__ == "__main__":
    main()
