"""Forecaster benchmark: the LSTM on the 505 real S&P 500 symbols × 5 years.

A throwaway warehouse gets the real bars and a dbt build of the indicator mart; a
throwaway MLflow store (a database on the local cluster, artifacts in a temporary
folder) records the run. Measured: training time (total and per epoch), scoring time
for every symbol, and the evaluation on the test window — LSTM vs ridge vs drift vs
naive, per horizon, with the LSTM's interval coverage — whatever it shows.

Usage: ``python bench/ml.py [--epochs N] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import server_dsn, shared_file, throwaway_warehouse, write_section
from stockmind.db import create_database, drop_database, sqlalchemy_url
from stockmind.dbt_runner import run_dbt
from stockmind.ingest import ingest_prices
from stockmind.providers.csv import CsvProvider
from stockmind_ml.config import ForecastConfig

MODELS = ("lstm", "ridge", "drift", "naive")


def table(metrics: dict[str, float], horizons: tuple[int, ...]) -> str:
    rows = [
        "| horizon | model | MAE | direction | IC | interval coverage |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for h in horizons:
        for model in MODELS:

            def get(metric, model=model, h=h):
                value = metrics.get(f"test_{model}_{metric}_h{h}")
                return "—" if value is None or value != value else f"{value:.4f}"  # NaN: —

            name = f"**{model}**" if model == "lstm" else model
            rows.append(
                f"| {h} d | {name} | {get('mae')} | {get('direction')} | {get('ic')} | {get('coverage')} |"
            )
    return "\n".join(rows)


def reading(metrics: dict[str, float], h: int = 21) -> str:
    """One sentence a reader can check against the table: the LSTM against the baselines."""
    m = {k: metrics.get(f"test_{k}_h{h}", float("nan")) for k in
         ("lstm_mae", "naive_mae", "drift_mae", "ridge_mae", "lstm_direction", "drift_direction")}  # fmt: skip
    return (
        f"At {h} days the LSTM's MAE is {m['lstm_mae'] / m['naive_mae']:.3f}x the naive "
        f"baseline's, {m['lstm_mae'] / m['drift_mae']:.3f}x the drift's and "
        f"{m['lstm_mae'] / m['ridge_mae']:.3f}x the ridge's; it gets the direction right "
        f"{m['lstm_direction']:.1%} of the time against the drift's {m['drift_direction']:.1%}."
    )


def walk_forward(metrics: dict[str, float], windows: int) -> str:
    """MAE at one month per walk-forward test window, every model."""
    rows = ["| test window | " + " | ".join(MODELS) + " |", "|---|" + "---:|" * len(MODELS)]
    for k in range(1, windows + 1):
        cells = [f"{metrics.get(f'test_w{k}_{m}_mae_h21', float('nan')):.4f}" for m in MODELS]
        rows.append(f"| w{k} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, help="at most this many epochs (default: config)")
    parser.add_argument("--write", help="write the Markdown report here")
    args = parser.parse_args()
    import mlflow
    from stockmind_ml.predict import score
    from stockmind_ml.train import train_forecaster

    config = ForecastConfig()
    if args.epochs:
        config = dataclasses.replace(config, epochs=args.epochs)
    server = server_dsn()
    store = f"mlflow_bench_{uuid.uuid4().hex[:8]}"
    uri = sqlalchemy_url(create_database(server, store))
    try:
        with throwaway_warehouse() as dsn, tempfile.TemporaryDirectory() as artifacts:
            provider = CsvProvider(shared_file())
            symbols = provider.symbols()
            t0 = time.perf_counter()
            ingest_prices(symbols, dt.date(2013, 1, 1), dt.date(2018, 12, 31), provider,
                          batch_size=128, dsn=dsn, progress=lambda m: None)  # fmt: skip
            run_dbt(["run", "--select", "+fct_indicators_daily"], dsn=dsn, capture_output=True)
            prepared = time.perf_counter() - t0
            mlflow.set_tracking_uri(uri)
            mlflow.create_experiment("stockmind-forecaster", Path(artifacts).as_uri())
            import psycopg2

            with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
                cur.execute("select max(trade_date) from marts.fct_indicators_daily")
                (as_of,) = cur.fetchone()
            conn.close()
            t1 = time.perf_counter()
            run = train_forecaster(dsn, as_of, config, tracking_uri=uri)
            trained = time.perf_counter() - t1
            epochs = len(mlflow.MlflowClient().get_metric_history(run["run_id"], "val_loss"))
            t2 = time.perf_counter()
            scored = score(dsn, as_of, alias="challenger", tracking_uri=uri)
            scoring = time.perf_counter() - t2
            params = mlflow.get_run(run["run_id"]).data.params
    finally:
        mlflow.set_tracking_uri(None)
        drop_database(server, store)
    report = f"""## Forecaster (LSTM vs baselines)

Measured by `bench/ml.py` on {dt.date.today()}, {os.cpu_count()} cores, on the real bars of
{len(symbols)} symbols (5 years; as of {as_of}); loading and the indicator mart took
{prepared:.0f} s. Configuration: the default `ForecastConfig` (sequence
{config.sequence_length}, LSTM {config.lstm_units}, quantiles {config.quantiles},
at most {config.epochs} epochs with early stopping, {params["train_samples"]} training
windows, validation {params["validation_first"]} .. {params["validation_last"]}, test
{params["test_first"]} .. {params["test_last"]} in {config.test_windows} walk-forward windows,
{config.purge_days}-day purge gaps).

| step | seconds | target |
|---|---:|---:|
| training, total ({epochs} epochs, early stopping) | {trained:.0f} | < 900 |
| training, per epoch | {trained / max(epochs, 1):.0f} | — |
| scoring {scored["scored"]} symbols (load, features, forecast, write, NOTIFY) | {scoring:.1f} | < 30 |

Test window, per horizon (trading days): mean absolute error of the log return,
share of right directions, information coefficient (rank correlation across symbols per
date, averaged) and the share of outcomes inside the LSTM's 10–90 % interval. The naive
baseline forecasts no move, so it has no direction (—); the direction to beat is the
drift's (the training window's mean return: in practice "always up").

{table(run["metrics"], config.horizons)}

{reading(run["metrics"])}

Walk-forward, the same model on each test window in time order (MAE of the 21-day log
return; a result that holds in one period only shows here):

{walk_forward(run["metrics"], config.test_windows)}

Promotion: {run["why"]}.
"""
    print(report)
    if args.write:
        write_section(args.write, "ml", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
