"""One training run: marts → dataset → LSTM and baselines → MLflow (params, per-epoch and
evaluation metrics, the model with signature and input example) → the registry (the new
version is the ``challenger``; the promotion rule may make it the ``champion``).

``stockmind ml train`` and the ``train_forecaster`` DAG call :func:`train_forecaster`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
from stockmind.db import connect

from stockmind_ml.baselines import Drift, RidgeBaseline, naive
from stockmind_ml.config import ForecastConfig
from stockmind_ml.dataset import Windows, build_dataset, load_bars
from stockmind_ml.evaluate import metrics
from stockmind_ml.features import FEATURES
from stockmind_ml.registry import MODEL_NAME, gate_new_version, promotion_decision

EXPERIMENT = "stockmind-forecaster"
REQUIREMENTS = ("mlflow", "tensorflow-cpu", "keras", "pandas", "numpy", "scikit-learn")


def code_version() -> str:
    """The checkout's commit (``unknown`` outside git), logged with every run."""
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        )  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def subsample(windows: Windows, limit: int | None, seed: int) -> Windows:
    if limit is None or len(windows.x) <= limit:
        return windows
    keep = np.sort(np.random.default_rng(seed).choice(len(windows.x), limit, replace=False))
    return Windows(windows.x[keep], windows.y[keep], windows.keys.iloc[keep].reset_index(drop=True))


def evaluate_all(model, config: ForecastConfig, train: Windows, splits: dict[str, Windows]):
    """Every model's metrics on every evaluation split, on the same rows."""
    from stockmind_ml.model import predict_quantiles

    median = config.quantiles.index(0.5) if 0.5 in config.quantiles else len(config.quantiles) // 2
    drift, ridge = Drift(train.y), RidgeBaseline(train.x, train.y)
    found: dict[str, float] = {}
    for split, w in splits.items():
        dates = w.keys["trade_date"]
        q = predict_quantiles(model, w.x)
        interval = (q[:, :, 0], q[:, :, -1])
        found |= metrics(split, "lstm", config.horizons, dates, q[:, :, median], w.y, interval)
        found |= metrics(
            split, "naive", config.horizons, dates, naive(w.x, len(config.horizons)), w.y
        )
        found |= metrics(split, "drift", config.horizons, dates, drift.predict(w.x), w.y)
        found |= metrics(split, "ridge", config.horizons, dates, ridge.predict(w.x), w.y)
    return found


def record_version(
    dsn: str | None, version: int, run_id: str, as_of: dt.date, promoted: bool, why: str,
    results: dict[str, float],
) -> None:  # fmt: skip
    """The version's facts in ``ml.model_versions``, for the marts (and so the API) to show
    a forecast beside its model's validation metrics and the naive baseline's."""
    finite = {k: v for k, v in results.items() if math.isfinite(v)}
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "insert into ml.model_versions (model_name, version, run_id, trained_as_of,"
                " promoted, promotion_reason, metrics) values (%s, %s, %s, %s, %s, %s, %s)"
                " on conflict (model_name, version) do update set promoted = excluded.promoted,"
                " promotion_reason = excluded.promotion_reason, metrics = excluded.metrics",
                (MODEL_NAME, version, run_id, as_of, promoted, why, json.dumps(finite)),
            )
    finally:
        conn.close()


def train_forecaster(
    dsn: str | None,
    as_of: dt.date,
    config: ForecastConfig,
    symbols: list[str] | None = None,
    tracking_uri: str | None = None,
) -> dict:
    """Train, evaluate, log and register one model; returns the run's summary."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from stockmind_ml.model import build_model, fit
    from stockmind_ml.pyfunc import ForecasterModel

    bars = load_bars(dsn, as_of, symbols)
    data = build_dataset(bars, config, as_of)
    train = subsample(data.windows("train"), config.max_samples, config.seed)
    validation, test = data.windows("validation"), data.windows("test")
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"lstm as of {as_of}") as run:
        window = {f"{s}_{end}": str(d.date()) for s, (a, b) in data.bounds.items()
                  if not s.startswith("test_w")
                  for end, d in (("first", a), ("last", b))}  # fmt: skip
        mlflow.log_params(config.params() | window | {
            "as_of": str(as_of), "symbols": int(bars["symbol"].nunique()),
            "features": ",".join(FEATURES), "train_samples": len(train.x),
            "validation_samples": len(validation.x), "test_samples": len(test.x),
        })  # fmt: skip
        mlflow.set_tags({"code_version": code_version(), "data": "marts.fct_indicators_daily"})
        model = build_model(config, len(FEATURES))

        def log_epoch(epoch, logs):
            mlflow.log_metrics({"train_loss": logs["loss"], "val_loss": logs["val_loss"]}, epoch)

        fit(model, config, (train.x, train.y), (validation.x, validation.y), on_epoch=log_epoch)
        walk = {f"test_w{k}": data.windows(f"test_w{k}") for k in range(1, config.test_windows + 1)}
        splits = {"validation": validation, "test": test, **walk}
        results = evaluate_all(model, config, train, splits)
        mlflow.log_metrics({k: v for k, v in results.items() if math.isfinite(v)})
        forecaster = ForecasterModel()
        forecaster.config, forecaster.scaler, forecaster.model = config, data.scaler, model
        first = bars["symbol"].iloc[-1]
        example = bars[bars["symbol"] == first].tail(config.sequence_length + 30)
        with tempfile.TemporaryDirectory() as tmp:
            paths = {"keras_model": f"{tmp}/forecaster.keras", "config": f"{tmp}/config.json",
                     "scaler": f"{tmp}/scaler.json"}  # fmt: skip
            model.save(paths["keras_model"])
            Path(paths["config"]).write_text(json.dumps(dataclasses.asdict(config)))
            Path(paths["scaler"]).write_text(json.dumps(data.scaler.to_dict()))
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=ForecasterModel(),  # a fresh one: nothing heavy is pickled
                artifacts=paths,
                signature=infer_signature(example, forecaster.predict(None, example)),
                input_example=example,
                registered_model_name=MODEL_NAME,
                pip_requirements=[f"{p}=={metadata.version(p)}" for p in REQUIREMENTS],
            )
        version = info.registered_model_version
        promote, why = gate_new_version(
            MlflowClient(), MODEL_NAME, version, results, promotion_decision
        )
        mlflow.set_tag("promotion", why)
        record_version(dsn, int(version), run.info.run_id, as_of, promote, why, results)
    return {"run_id": run.info.run_id, "version": int(version), "promoted": promote,
            "why": why, "metrics": results}  # fmt: skip
