"""A deterministic fake sentence encoder for the rich tier's tests (no encoder weights needed)."""

from __future__ import annotations

import zlib

import numpy as np


def bag_encoder(dim: int):
    """Hashed bag of lowercase words, L2-normalised; ``embed.calls`` lists the batches it was given."""
    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(",", " ").replace("!", " ").split():
                out[i, zlib.crc32(word.encode()) % dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)

    embed.calls = calls  # type: ignore[attr-defined]
    return embed
