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
