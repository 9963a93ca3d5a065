"""Analytics: risk formulas checked by hand, and the endpoint on a real warehouse."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import load_sample, read_frame, run_dbt
from stockmind_api.analytics.risk import risk_metrics
from test_api_auth import PASSWORD, bearer, body_of, make_app


def test_risk_formulas_on_a_hand_made_series():
    values = [100.0, 110.0, 99.0, 120.0, 114.0]
    r = np.array([0.10, -0.10, 120 / 99 - 1, 114 / 120 - 1])
    out = risk_metrics(values, benchmark_returns=r / 2, risk_free=0.02)
    assert out["observations"] == 4
    assert out["volatility"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(252))
    assert out["beta"] == pytest.approx(2.0)  # the portfolio moves twice the benchmark
    assert out["sharpe"] == pytest.approx((r.mean() * 252 - 0.02) / out["volatility"])
    assert out["max_drawdown"] == pytest.approx(99 / 110 - 1)
    assert out["var_95"] == pytest.approx(-np.quantile(r, 0.05) * 114.0)
    assert risk_metrics([100.0])["volatility"] is None  # too short: no numbers, no garbage


@pytest.mark.slow
def test_portfolio_analytics_endpoint(module_warehouse):
    symbols = ["AAPL", "MSFT", "KO"]
    load_sample(module_warehouse, symbols, dt.date(2024, 1, 2), dt.date(2024, 6, 28), profiles=True)
    run_dbt(module_warehouse, "run", "--select", "+fct_prices_daily", "+dim_symbols")
    app = make_app(module_warehouse)
    try:
        client = app.test_client()
        token = bearer(
            body_of(
                client.post(
                    "/api/auth/register",
                    json={"email": "quant@example.com", "password": PASSWORD, "fullName": "Q"},
                ),
                201,
            )["data"]["accessToken"]
        )
        for symbol, shares in (("AAPL", 10), ("MSFT", 5)):
            body_of(
                client.post(
                    "/api/portfolio/holdings",
                    headers=token,
                    json={"symbol": symbol, "shares": shares, "averagePrice": 1},
                ),
                201,
            )
        data = body_of(
            client.get("/api/analytics/portfolio?start=2024-03-01&end=2024-06-28", headers=token),
            200,
        )["data"]
    finally:
        app.extensions["db"].close()
    prices = read_frame(
        module_warehouse,
        "select symbol, trade_date, close from marts.fct_prices_daily "
        "where trade_date between '2024-03-01' and '2024-06-28'",
    )
    wide = prices.pivot(index="trade_date", columns="symbol", values="close")
    expected = 10 * wide["AAPL"] + 5 * wide["MSFT"]
    assert [p["value"] for p in data["valueOverTime"]] == pytest.approx(expected.tolist())
    weights = [s["weight"] for s in data["allocationBySymbol"]]
    assert sum(weights) == pytest.approx(1.0, abs=1e-3)  # each sent with 4 decimals
    assert all(round(w, 4) == w for w in weights)
    assert {s["key"] for s in data["allocationBySector"]} == {"Information Technology"}
    bench = wide.pct_change().mean(axis=1).dropna()  # equal-weight universe (3 symbols)
    r = expected.pct_change().dropna()
    beta = np.cov(r, bench)[0, 1] / np.var(bench, ddof=1)
    assert data["risk"]["beta"] == pytest.approx(beta, abs=5e-5)  # a ratio: 4 decimals
    assert data["risk"]["volatility"] > 0 and data["risk"]["maxDrawdown"] <= 0
    assert data["benchmark"] == "equal-weight universe"
    assert pd.Timestamp(data["end"]) == pd.Timestamp("2024-06-28")
