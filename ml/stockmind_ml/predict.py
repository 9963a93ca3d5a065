"""Scoring: the registered forecaster (by alias) → ``ml.predictions`` → ``prediction_update``.

For every symbol, from its last bar at or before the as-of date: per horizon the median
log return and its interval (the lowest and highest quantile heads) become a target
price, a change %, a price interval and a trend; per symbol a ``bullish_score`` and a
``risk_level`` (defined below) summarise the one-month horizon. Rows are keyed on
(symbol, as_of, model, version, horizon): scoring again replaces them. The NOTIFY goes
out in the same transaction, so a client never hears of rows it cannot read.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from psycopg2.extras import execute_values
from stockmind import events
from stockmind.db import connect
from stockmind.precision import round_to

from stockmind_ml.config import HORIZONS
from stockmind_ml.dataset import load_bars
from stockmind_ml.registry import MODEL_NAME

SUMMARY_HORIZON = 21  # the bullish score and the risk level read the one-month forecast
FLAT_BAND = 0.005  # |median log return| below this is "flat"
COLUMNS = (
    "symbol", "as_of", "model_name", "model_version", "alias", "horizon_days", "horizon_label",
    "last_close", "predicted_return", "return_low", "return_high", "target_price",
    "change_percent", "price_low", "price_high", "trend", "bullish_score", "risk_level",
)  # fmt: skip


def bullish_score(low: float, median: float, high: float) -> int:
    """0–100: how much of the forecast interval lies above a zero return (linear between
    the quantiles; 100 when even the low quantile is a gain, 0 when even the high one is a
    loss, 50 for an interval centred on zero)."""
    if high <= low:
        return 100 if median > 0 else 0 if median < 0 else 50
    return round(100 * min(1.0, max(0.0, high / (high - low))))


def risk_level(low: float, high: float, horizon_days: int) -> str:
    """From the interval's width as an annualised volatility: a 10–90 % interval of a
    normal return spans 2.563 σ; under 20 % a year is low, under 40 % medium, else high."""
    sigma = (high - low) / 2.563 * math.sqrt(252 / horizon_days)
    return "low" if sigma < 0.20 else "medium" if sigma < 0.40 else "high"


def trend(median: float) -> str:
    return "up" if median > FLAT_BAND else "down" if median < -FLAT_BAND else "flat"


def prediction_rows(
    forecasts: pd.DataFrame, last_close: dict[str, float], version: int, alias: str,
    quantiles: tuple[float, ...], horizons: tuple[int, ...],
) -> list[dict]:  # fmt: skip
    """The table's rows from the pyfunc's output (``h{days}_q{pct}`` columns)."""
    q_low, q_mid, q_high = (f"q{round(q * 100)}" for q in (quantiles[0], 0.5, quantiles[-1]))
    rows = []
    for record in forecasts.to_dict("records"):
        close = last_close[record["symbol"]]
        s = SUMMARY_HORIZON if SUMMARY_HORIZON in horizons else horizons[0]
        summary = [record[f"h{s}_{q}"] for q in (q_low, q_mid, q_high)]
        for h in horizons:
            low, mid, high = (float(record[f"h{h}_{q}"]) for q in (q_low, q_mid, q_high))
            rows.append({
                "symbol": record["symbol"], "as_of": record["as_of"], "model_name": MODEL_NAME,
                "model_version": version, "alias": alias, "horizon_days": h,
                "horizon_label": HORIZONS.get(h, f"{h}d"), "last_close": close,
                "predicted_return": mid, "return_low": low, "return_high": high,
                "target_price": close * math.exp(mid),
                "change_percent": (math.exp(mid) - 1) * 100,
                "price_low": close * math.exp(low), "price_high": close * math.exp(high),
                "trend": trend(mid), "bullish_score": bullish_score(*summary),
                "risk_level": risk_level(summary[0], summary[2], s),
            })  # fmt: skip
    return rows


def event_items(rows: list[dict]) -> list[dict]:
    """One ``prediction_update`` item per symbol, its horizons nested, numbers rounded."""
    by_symbol: dict[str, dict] = {}
    for row in rows:
        entry = by_symbol.setdefault(row["symbol"], {
            "symbol": row["symbol"], "asOf": str(row["as_of"]),
            "modelVersion": row["model_version"], "alias": row["alias"],
            "bullishScore": row["bullish_score"], "riskLevel": row["risk_level"], "horizons": [],
        })  # fmt: skip
        entry["horizons"].append({
            "label": row["horizon_label"], "days": row["horizon_days"],
            "targetPrice": round_to(row["target_price"], 4),
            "changePercent": round_to(row["change_percent"], 2),
            "low": round_to(row["price_low"], 4), "high": round_to(row["price_high"], 4),
            "trend": row["trend"],
        })  # fmt: skip
    return list(by_symbol.values())


def score(
    dsn: str | None,
    as_of: dt.date,
    alias: str = "champion",
    symbols: list[str] | None = None,
    tracking_uri: str | None = None,
) -> dict:
    """Forecast every symbol with the model under ``alias``; write and announce them."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        version = MlflowClient().get_model_version_by_alias(MODEL_NAME, alias)
    except MlflowException:
        hint = " (or score with the challenger: --alias challenger)" if alias == "champion" else ""
        return {"scored": 0, "message": f"no {alias} model yet: nothing scored{hint}"}
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version.version}")
    config = model.unwrap_python_model().config
    since = as_of - dt.timedelta(days=int((config.sequence_length + 60) * 1.6))
    bars = load_bars(dsn, as_of, symbols, since=since)
    forecasts = model.predict(bars)
    last = bars.sort_values("trade_date").groupby("symbol")["close"].last().to_dict()
    rows = prediction_rows(
        forecasts, last, int(version.version), alias, config.quantiles, config.horizons
    )
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            execute_values(
                cur,
                f"insert into ml.predictions ({', '.join(COLUMNS)}) values %s "
                "on conflict (symbol, as_of, model_name, model_version, horizon_days) do update "
                f"set {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[4:])}, scored_at = now()",
                [tuple(row[c] for c in COLUMNS) for row in rows],
            )
            sent = events.publish(cur, events.PREDICTION_UPDATE, event_items(rows)) if rows else 0
    finally:
        conn.close()
    missing = sorted(set(bars["symbol"]) - set(forecasts["symbol"]))
    return {
        "scored": int(forecasts["symbol"].nunique()), "rows": len(rows),
        "model_version": int(version.version), "alias": alias, "notifications": sent,
        "skipped": missing, "as_of": str(as_of),
    }  # fmt: skip
