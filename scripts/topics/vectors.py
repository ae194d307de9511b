"""Cache of the stored-format e5 ‖ USE vectors of the labelled topic set (data/cache/, git-ignored).

``matrix(path)`` returns the float32 (n, 896) matrix that ``console.bench.topics.stored_vectors`` computes, loading
the encoders only the first time. Used by the exploration scripts of decision 0300.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from console.bench import topics as bench

CACHE = Path(__file__).resolve().parents[2] / "data" / "cache"


def matrix(path: Path = bench.DATA) -> Any:
    import numpy as np

    texts, _truth = bench.labelled(path)
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    file = CACHE / f"topics-vectors-{key}.npy"
    if file.exists():
        return np.load(file)
    CACHE.mkdir(parents=True, exist_ok=True)
    m = bench.stored_vectors(texts)
    np.save(file, m)
    return m


if __name__ == "__main__":
    print(matrix().shape)
