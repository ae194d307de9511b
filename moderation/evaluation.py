"""Quality metrics (pure Python): accuracy, macro-F1, per-class precision/recall/F1, balanced accuracy.

Used by ``python -m console eval sentiment|risk`` and by training's cross-validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def per_class(truth: Sequence[str], predicted: Sequence[str],
              labels: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each label."""
    labels = list(labels) if labels is not None else sorted(set(truth) | set(predicted))
    out: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                      "support": tp + fn}
    return out


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Unweighted mean of the per-label F1 scores."""
    scores = per_class(truth, predicted, labels)
    return sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0


def classification_report(truth: Sequence[str], predicted: Sequence[str],
                          labels: Sequence[str] | None = None) -> dict[str, Any]:
    """``n``, ``accuracy``, ``macro_f1`` and ``per_class`` in one dict (the eval commands' JSON)."""
    n = len(truth)
    accuracy = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p) / n if n else 0.0
    classes = per_class(truth, predicted, labels)
    macro = sum(s["f1"] for s in classes.values()) / len(classes) if classes else 0.0
    return {"n": n, "accuracy": round(accuracy, 4), "macro_f1": round(macro, 4), "per_class": classes}


def binary_report(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """Report for toxic / not toxic, adding ``balanced_accuracy``, ``toxic_precision`` and ``toxic_recall``."""
    t = ["toxic" if x else "non_toxic" for x in truth]
    p = ["toxic" if x else "non_toxic" for x in predicted]
    report = classification_report(t, p, ["non_toxic", "toxic"])
    classes = report["per_class"]
    report["balanced_accuracy"] = round((classes["toxic"]["recall"] + classes["non_toxic"]["recall"]) / 2, 4)
    report["toxic_precision"] = classes["toxic"]["precision"]
    report["toxic_recall"] = classes["toxic"]["recall"]
    return report
