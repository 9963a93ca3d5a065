"""The sentiment model as an MLflow pyfunc: a DataFrame with a ``text`` column in, one
row per text out with ``label`` and ``score`` (P(positive) − P(negative)).

Only a stateless instance is pickled by MLflow; the model itself travels as the two
plain artifact files (json + npz) and is read back with ``LinearSentiment.load``.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from stockmind_ml.sentiment.artifact import LinearSentiment


def artifact_paths(folder: Path) -> dict[str, str]:
    from stockmind_ml.sentiment.artifact import JSON_NAME, NPZ_NAME

    return {"meta": str(Path(folder) / JSON_NAME), "weights": str(Path(folder) / NPZ_NAME)}


def predict_frame(model: LinearSentiment, frame: pd.DataFrame) -> pd.DataFrame:
    if "text" not in frame.columns:
        raise ValueError("input needs a 'text' column")
    labels, scores = model.labels_and_scores([str(t) for t in frame["text"]])
    return pd.DataFrame({"label": labels, "score": scores.astype(float)})


class SentimentModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.model = LinearSentiment.load(Path(context.artifacts["meta"]).parent)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return predict_frame(self.model, model_input)
