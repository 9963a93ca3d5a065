"""What the forecaster's DAG tasks call: each task body is one call into here, with small
return values (XCom). The warehouse comes from ``DATABASE_URL`` (the core's settings),
MLflow from ``MLFLOW_TRACKING_URI`` (set for every platform process).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from stockmind.db import connect, warehouse_dsn


def latest_trade_date(dsn: str, on_or_before: dt.date | None = None) -> dt.date | None:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select max(trade_date) from marts.fct_indicators_daily"
                " where %(day)s::date is null or trade_date <= %(day)s",
                {"day": on_or_before},
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def train_task(as_of: str | None, interval_end: dt.date, quick: bool, epochs: int | None) -> dict:
    """Train at ``as_of`` (a manual run's param) or the data interval's end — the last
    trade date at or before it, so a weekend run trains on Friday's bars."""
    from stockmind_ml.config import ForecastConfig
    from stockmind_ml.train import train_forecaster

    dsn = warehouse_dsn()
    day = latest_trade_date(dsn, dt.date.fromisoformat(as_of) if as_of else interval_end)
    if day is None:
        raise ValueError("no indicators in the warehouse at that date: nothing to train on")
    config = ForecastConfig.quick() if quick else ForecastConfig()
    if epochs:
        config = dataclasses.replace(config, epochs=epochs)
    run = train_forecaster(dsn, day, config)
    keys = [k for k in run["metrics"] if k.startswith("validation_") and k.endswith("_mae_h21")]
    return {
        "as_of": str(day), "version": run["version"], "promoted": run["promoted"],
        "why": run["why"], "run_id": run["run_id"],
        "metrics": {k: round(run["metrics"][k], 6) for k in keys},
    }  # fmt: skip


def score_task(as_of: str | None, alias: str) -> dict:
    """Score every symbol from the latest trade date (or ``as_of``) with ``alias``."""
    from stockmind_ml.predict import score

    dsn = warehouse_dsn()
    day = latest_trade_date(dsn, dt.date.fromisoformat(as_of) if as_of else None)
    if day is None:
        return {"scored": 0, "message": "no indicators in the warehouse yet"}
    result = score(dsn, day, alias=alias)
    result.pop("skipped", None)
    return result
