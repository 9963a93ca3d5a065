"""One sentiment training run: the train split → C chosen by stratified cross-validation
inside it → the final fit on all of it → evaluation on the validation split beside VADER
and the majority class → MLflow (params, metrics, confusion matrices, the model with
signature and input example) → the registry (the new version is the ``challenger``;
the promotion rule may make it the ``champion``) → optionally the shipped artifact.

``stockmind sentiment train --data PATH`` calls :func:`train_sentiment`. With
``register=False`` nothing touches MLflow (training and writing the artifact offline).
"""

from __future__ import annotations

import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from stockmind_ml.registry import gate_new_version
from stockmind_ml.sentiment.artifact import LinearSentiment
from stockmind_ml.sentiment.config import EXPERIMENT, MODEL_NAME, SentimentConfig
from stockmind_ml.sentiment.dataset import file_sha256, load_split
from stockmind_ml.sentiment.evaluate import confusion_dict, metrics
from stockmind_ml.sentiment.notice import write_notice
from stockmind_ml.sentiment.registry import promotion_decision

REQUIREMENTS = ("mlflow", "numpy", "scipy", "pandas")


def choose_c(texts: pd.Series, labels: pd.Series, config: SentimentConfig) -> tuple[float, dict]:
    """The C with the best mean macro-F1 over stratified folds of the training split
    (vectorizers refit in every fold, so no fold sees its held-out texts' vocabulary)."""
    if len(config.c_grid) == 1:
        return config.c_grid[0], {}
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from stockmind_ml.sentiment.model import build_pipeline

    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    scores: dict[float, list[float]] = {c: [] for c in config.c_grid}
    for fit_rows, held_rows in folds.split(texts, labels):
        features = build_pipeline(config, 1.0).named_steps["features"]
        x_fit = features.fit_transform(texts.iloc[fit_rows])
        x_held = features.transform(texts.iloc[held_rows])
        for c in config.c_grid:
            classifier = build_pipeline(config, c).named_steps["classifier"]
            classifier.fit(x_fit, labels.iloc[fit_rows])
            predicted = classifier.predict(x_held)
            scores[c].append(f1_score(labels.iloc[held_rows], predicted, average="macro"))
    means = {c: float(np.mean(s)) for c, s in scores.items()}
    best = max(config.c_grid, key=lambda c: (means[c], -c))  # ties: the simpler model
    return best, {f"cv_macro_f1_c{c:g}": m for c, m in means.items()}


def fit(data_dir: Path, config: SentimentConfig):
    """Train on the train split only: (exported model, facts to log, the sklearn pipeline
    — kept for the tests, which check the export scores exactly like it)."""
    from stockmind_ml.sentiment.model import build_pipeline

    train = load_split(data_dir, "train")
    started = time.perf_counter()
    c, cv = choose_c(train["text"], train["label"], config)
    pipeline = build_pipeline(config, c).fit(train["text"], train["label"])
    seconds = time.perf_counter() - started
    facts = {
        "c": c, "train_samples": len(train), "train_sha256": file_sha256(data_dir, "train"),
        "train_seconds": round(seconds, 1), "cv": cv,
    }  # fmt: skip
    meta = {"config": {**config.params(), "word_ngrams": list(config.word_ngrams),
                       "char_ngrams": list(config.char_ngrams), "c": c},
            "training": {k: v for k, v in facts.items() if k != "cv"}}  # fmt: skip
    return LinearSentiment.from_pipeline(pipeline, meta), facts, pipeline


def evaluate(model: LinearSentiment, data_dir: Path) -> tuple[dict, dict]:
    """Local model, VADER and the majority class on the validation split."""
    from stockmind_ml.sentiment.lexicon import VaderSentiment

    valid = load_split(data_dir, "valid")
    truth = list(valid["label"])
    texts = list(valid["text"])
    predictions = {
        "local": model.labels_and_scores(texts)[0],
        "vader": [r["label"] for r in VaderSentiment().classify(texts)],
        "majority": [pd.Series(truth).mode()[0]] * len(truth),  # reported, not a gate
    }
    found: dict[str, float] = {}
    matrices = {}
    for name, predicted in predictions.items():
        values, matrix = metrics("validation", name, truth, predicted)
        found |= values
        matrices[name] = confusion_dict(matrix)
    return found, matrices


def train_sentiment(
    data_dir: Path,
    tracking_uri: str | None = None,
    write_artifact: Path | None = None,
    register: bool = True,
    config: SentimentConfig | None = None,
) -> dict:
    """Train, evaluate, (log and register,) (write the artifact); returns the summary:
    ``{run_id, version, promoted, why, metrics}`` (run_id/version None unregistered)."""
    data_dir, config = Path(data_dir), config or SentimentConfig()
    model, facts, _ = fit(data_dir, config)
    results, matrices = evaluate(model, data_dir)
    model.meta["validation"] = {"valid_sha256": file_sha256(data_dir, "valid"), **results}
    summary = {"run_id": None, "version": None, "promoted": False, "c": facts["c"],
               "why": "not registered (register=False)", "metrics": results}  # fmt: skip
    if register:
        summary |= log_and_register(model, facts, results, matrices, config, tracking_uri)
    if write_artifact is not None:
        sha = model.save(Path(write_artifact))
        write_notice(Path(write_artifact), model.meta, sha)
        summary["artifact_sha256"] = sha
    return summary


def log_and_register(model, facts, results, matrices, config, tracking_uri) -> dict:
    """The run in the ``stockmind-sentiment`` experiment and the new registered version."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from stockmind_ml.sentiment.pyfunc import SentimentModel, artifact_paths, predict_frame
    from stockmind_ml.train import code_version

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"tfidf-logreg C={facts['c']:g}") as run:
        chosen = {k: facts[k] for k in ("c", "train_samples", "train_sha256")}
        width = sum(len(v) for v in model.vocabularies.values())
        valid_sha = model.meta["validation"]["valid_sha256"]
        mlflow.log_params(config.params() | chosen | {"valid_sha256": valid_sha, "features": width})
        mlflow.set_tags(
            {"code_version": code_version(), "data": "twitter-financial-news-sentiment"}
        )
        mlflow.log_metrics(results | facts["cv"] | {"train_seconds": facts["train_seconds"]})
        mlflow.log_dict(matrices, "confusion_matrix.json")
        example = pd.DataFrame({"text": ["Acme beats earnings estimates and raises guidance",
                                         "Acme shares plunge after profit warning"]})  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp))
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=SentimentModel(),  # stateless: the model travels as json + npz
                artifacts=artifact_paths(Path(tmp)),
                signature=infer_signature(example, predict_frame(model, example)),
                input_example=example,
                registered_model_name=MODEL_NAME,
                pip_requirements=[f"{p}=={metadata.version(p)}" for p in REQUIREMENTS],
            )
        version = info.registered_model_version
        promote, why = gate_new_version(
            MlflowClient(), MODEL_NAME, version, results, promotion_decision
        )
        mlflow.set_tag("promotion", why)
    return {"run_id": run.info.run_id, "version": int(version), "promoted": promote, "why": why}


def register_shipped(tracking_uri: str | None = None, data_dir: Path | None = None) -> dict:
    """Register the artifact shipped in the repository as a version of
    ``stockmind-sentiment`` without retraining (``make up``: seconds, not a minute).

    Its metrics are measured again on the validation split when ``data_dir`` holds it;
    otherwise they are the ones recorded in the artifact when it was trained (tag
    ``metrics_source`` says which). The promotion rule is the same as for a trained one."""
    from mlflow import MlflowClient

    from stockmind_ml.sentiment.artifact import digest
    from stockmind_ml.sentiment.local import SHIPPED

    model = LinearSentiment.load(SHIPPED)
    facts = dict(model.meta["training"]) | {"cv": {}}
    if data_dir is not None:
        results, matrices = evaluate(model, Path(data_dir))
        source = "measured on the validation split at registration"
    else:
        results = {k: v for k, v in model.meta["validation"].items() if k != "valid_sha256"}
        matrices, source = {}, "recorded in the artifact when it was trained"
    summary = log_and_register(model, facts, results, matrices, SentimentConfig(), tracking_uri)
    client = MlflowClient(tracking_uri) if tracking_uri else MlflowClient()
    client.set_tag(summary["run_id"], "origin", f"shipped artifact {digest(SHIPPED)[:8]}")
    client.set_tag(summary["run_id"], "metrics_source", source)
    return summary | {"metrics": results}
