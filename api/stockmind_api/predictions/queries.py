"""SQL of the predictions endpoint: the symbol's latest forecast, one row per horizon, with
the metrics of the model version that made it (both marts are views on ``ml`` sources)."""

from __future__ import annotations

from stockmind.pool import Pool

HORIZONS = (5, 21, 63)
_METRICS = ", ".join(
    f"m.validation_lstm_mae_h{h}, m.validation_naive_mae_h{h}, "
    f"m.validation_lstm_direction_h{h}, m.validation_drift_mae_h{h}, "
    f"m.validation_drift_direction_h{h}, "
    f"m.test_lstm_coverage_h{h}"
    for h in HORIZONS
)
LATEST = f"""
select p.symbol, p.as_of, p.model_name, p.model_version, p.alias, p.horizon_days,
       p.horizon_label, p.last_close, p.target_price, p.change_percent, p.price_low,
       p.price_high, p.trend, p.bullish_score, p.risk_level, p.scored_at,
       m.promoted, m.promotion_reason, {_METRICS}
from marts.fct_predictions p
left join marts.dim_forecast_models m
  on m.model_name = p.model_name and m.version = p.model_version
where p.symbol = %s
order by p.horizon_days
"""


def latest_prediction(db: Pool, symbol: str) -> list[dict]:
    return db.fetch_all(LATEST, (symbol,))
