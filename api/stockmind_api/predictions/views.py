"""``GET /api/market/predictions/<symbol>``: the latest forecast (7/30/90 days ≈ 5/21/63
trading days) with its interval, the model version that made it, and that version's
validation metrics beside the naive baseline's. A forecast scored by a challenger says so:
its ``status`` carries the reason it was not promoted (for instance, not better than the
naive baseline)."""

from __future__ import annotations

from flask_smorest import abort

from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.market import queries as market
from stockmind_api.market.schemas import symbol_path_parameter
from stockmind_api.market.views import symbol_or_404
from stockmind_api.parsing import Blueprint
from stockmind_api.predictions import queries as q
from stockmind_api.predictions.schemas import PredictionSchema
from stockmind_api.schemas import envelope

blp = Blueprint("predictions", __name__, url_prefix="/api/market", description="Forecasts (public)")


def shape(rows: list[dict]) -> dict:
    """The rows of one forecast (one per horizon) as the response."""
    first = rows[0]
    status = "champion" if first["alias"] == "champion" else (
        first["promotion_reason"] or "challenger"
    )  # fmt: skip
    horizons = []
    for row in rows:
        h = row["horizon_days"]
        lstm, naive = row.get(f"validation_lstm_mae_h{h}"), row.get(f"validation_naive_mae_h{h}")
        horizons.append({
            "label": row["horizon_label"], "days": h, "target_price": row["target_price"],
            "change_percent": row["change_percent"], "low": row["price_low"],
            "high": row["price_high"], "trend": row["trend"],
            "validation": {
                "lstm_mae": lstm, "naive_mae": naive,
                "drift_mae": row.get(f"validation_drift_mae_h{h}"),
                "lstm_direction": row.get(f"validation_lstm_direction_h{h}"),
                "drift_direction": row.get(f"validation_drift_direction_h{h}"),
                "better_than_naive": None if lstm is None or naive is None else lstm < naive,
                "test_interval_coverage": row.get(f"test_lstm_coverage_h{h}"),
            },
        })  # fmt: skip
    return {
        "symbol": first["symbol"], "as_of": first["as_of"], "last_close": first["last_close"],
        "model_version": first["model_version"], "alias": first["alias"], "status": status,
        "bullish_score": first["bullish_score"], "risk_level": first["risk_level"],
        "scored_at": first["scored_at"], "horizons": horizons,
    }  # fmt: skip


@blp.route("/predictions/<symbol>", parameters=[symbol_path_parameter()])
@blp.response(200, envelope(PredictionSchema))
def prediction(symbol):
    """The latest forecast of a symbol — 404 until the forecaster has scored it."""
    symbol = symbol_or_404(symbol)
    rows = q.latest_prediction(db(), symbol)
    if not rows:
        if not market.symbol_exists(db(), symbol):
            abort(404, message=f"unknown symbol {symbol}")
        abort(404, message=f"no prediction yet for {symbol}")
    return success(shape(rows), f"forecast of {symbol} as of {rows[0]['as_of']}")
