"""Classification metrics on one split, named as MLflow metrics
(``validation_<model>_accuracy``, ``…_macro_f1``, ``…_f1_<class>``), and the
confusion matrix. Macro-F1 is the gate: with two thirds of the texts neutral, accuracy
alone rewards a model that rarely commits to a sentiment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stockmind_ml.sentiment.config import CLASSES


def confusion(truth: Sequence[str], predicted: Sequence[str]) -> np.ndarray:
    """Rows: true class, columns: predicted class, both in ``CLASSES`` order."""
    index = {c: i for i, c in enumerate(CLASSES)}
    matrix = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


def metrics(split: str, model: str, truth: Sequence[str], predicted: Sequence[str]):
    """(metrics dict, confusion matrix) for one model's predictions on one split."""
    matrix = confusion(truth, predicted)
    found = {f"{split}_{model}_accuracy": float(np.trace(matrix) / max(matrix.sum(), 1))}
    f1s = []
    for i, label in enumerate(CLASSES):
        tp, predicted_n, true_n = matrix[i, i], matrix[:, i].sum(), matrix[i, :].sum()
        f1 = 2 * tp / (predicted_n + true_n) if predicted_n + true_n else 0.0
        found[f"{split}_{model}_f1_{label}"] = float(f1)
        f1s.append(f1)
    found[f"{split}_{model}_macro_f1"] = float(np.mean(f1s))
    return found, matrix


def confusion_dict(matrix: np.ndarray) -> dict:
    """JSON-able confusion matrix with its axes named."""
    return {"rows": "true", "columns": "predicted", "classes": list(CLASSES),
            "matrix": matrix.tolist()}  # fmt: skip
