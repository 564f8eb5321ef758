"""Evaluation (main/engine/inspect/evaluation.ts): predictions over a labelled split, then the
confusion matrix, per-class precision/recall/one-vs-rest accuracy and the most confidently
misclassified samples. Precision and recall are 0 where undefined, as scikit-learn's zero_division=0."""
from typing import Any, Dict, List, Sequence


def accuracy_of(labels: Sequence[int], predicted: Sequence[int]) -> float:
    return sum(1 for a, p in zip(labels, predicted) if a == p) / len(labels) if labels else 0.0


def evaluate(labels: List[int], predicted: List[int], confidence: List[float], classes: int, top: int = 16) -> Dict[str, Any]:
    if not labels:
        raise ValueError("Cannot evaluate on an empty split: it has 0 samples.")
    confusion = [[0] * classes for _ in range(classes)]
    for a, p in zip(labels, predicted):
        confusion[a][p] += 1
    n = len(labels)
    per_class = []
    for c in range(classes):
        tp = confusion[c][c]
        support = sum(confusion[c])
        predicted_as = sum(row[c] for row in confusion)
        per_class.append({
            "precision": tp / predicted_as if predicted_as else 0.0, "recall": tp / support if support else 0.0,
            "accuracy": (n - support - predicted_as + 2 * tp) / n, "support": support,
        })
    wrong = [{"index": i, "actual": a, "predicted": p, "confidence": float(c)}
             for i, (a, p, c) in enumerate(zip(labels, predicted, confidence)) if a != p]
    wrong.sort(key=lambda w: (-w["confidence"], w["index"]))
    return {"accuracy": accuracy_of(labels, predicted), "confusion": confusion, "perClass": per_class, "misclassified": wrong[:top]}
