"""The local sentiment model as the news pipeline uses it: the registry's version when
a tracking store is configured and has it, else the artifact shipped in the repository.

Scoring must work with no network and no MLflow server (``make up`` offline, a fresh
checkout): every registry problem — no URI, server unreachable, no such alias, a broken
download — falls back to the shipped artifact with a logged warning, never an error.
MLflow is imported only when a registry is actually asked.
"""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.request
from pathlib import Path

from stockmind_ml.sentiment.artifact import LinearSentiment, digest
from stockmind_ml.sentiment.config import MODEL_NAME

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).resolve().parent / "artifacts"


class LocalSentiment:
    """A loaded model with the scorer interface: ``name``, ``model``, ``classify``."""

    name = "local"

    def __init__(self, model: LinearSentiment, model_name: str, source: str):
        self.linear = model
        self.model = model_name  # stored with every score, e.g. stockmind-sentiment/3
        self.source = source  # where it came from, for logs and `stockmind` output

    def classify(self, texts: list[str]) -> list[dict]:
        """One ``{label, score, scorer, model}`` per text, in order (empty text: neutral,
        as the model scores an empty feature vector by its intercepts alone)."""
        labels, scores = self.linear.labels_and_scores([t or "" for t in texts])
        return [
            {"label": label, "score": float(score), "scorer": self.name, "model": self.model}
            for label, score in zip(labels, scores, strict=True)
        ]

    def __repr__(self) -> str:
        return f"LocalSentiment(model={self.model!r}, source={self.source!r})"


def load_shipped(folder: Path = SHIPPED) -> LocalSentiment:
    """The artifact committed in the repository (named by its content's sha256)."""
    model = LinearSentiment.load(folder)
    return LocalSentiment(model, f"{MODEL_NAME}/shipped-{digest(folder)[:8]}", str(folder))


def _reachable(uri: str, timeout: float = 3.0) -> bool:
    """An HTTP tracking server answers ``/health`` quickly; MLflow's own client would
    retry for minutes before giving up, which the news task cannot wait for."""
    if not uri.startswith(("http://", "https://")):
        return True  # a database or file store: MLflow fails fast by itself
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as reply:
            return reply.status == 200
    except (OSError, ValueError):
        return False


def load_registered(tracking_uri: str, alias: str = "champion") -> LocalSentiment:
    """``models:/stockmind-sentiment@<alias>`` from the tracking store (raises if absent)."""
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    version = client.get_model_version_by_alias(MODEL_NAME, alias).version
    with tempfile.TemporaryDirectory() as tmp:
        local = download_artifacts(
            artifact_uri=f"models:/{MODEL_NAME}/{version}", dst_path=tmp,
            tracking_uri=tracking_uri, registry_uri=tracking_uri,
        )  # fmt: skip
        model = LinearSentiment.load(Path(local) / "artifacts")
    return LocalSentiment(model, f"{MODEL_NAME}/{version}", f"models:/{MODEL_NAME}@{alias}")


def load_local(tracking_uri: str | None = None, alias: str = "champion") -> LocalSentiment:
    """The registry's ``alias`` version when reachable and present, else the shipped one."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        if not _reachable(uri):
            log.warning("MLflow at %s unreachable: using the shipped sentiment model", uri)
        else:
            try:
                return load_registered(uri, alias)
            except Exception as error:  # any registry failure: the shipped model answers
                log.warning(
                    "no %s@%s from MLflow (%s): using the shipped sentiment model",
                    MODEL_NAME, alias, str(error).splitlines()[0][:200] if str(error) else error,
                )  # fmt: skip
    return load_shipped()
