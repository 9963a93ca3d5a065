"""Portfolio risk measures from a daily value series (pure functions, documented formulas).

With daily simple returns r_t = V_t / V_{t-1} − 1 over N days:

* annualised volatility  σ = stdev(r) × √252 (sample standard deviation);
* beta vs a benchmark    β = cov(r, b) / var(b), b the benchmark's daily returns;
* Sharpe ratio           (mean(r) × 252 − r_f) / σ, r_f the annual risk-free rate;
* max drawdown           min_t (V_t / max_{s≤t} V_s − 1), a negative fraction;
* 95 % historical VaR    −quantile_5%(r) × V_last: the one-day loss exceeded on 5 % of
                         the days in the window, in currency.
"""

from __future__ import annotations

import math

import numpy as np

TRADING_DAYS = 252


def returns(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[1:] / values[:-1] - 1 if len(values) > 1 else np.array([])


def risk_metrics(values, benchmark_returns=None, risk_free: float = 0.0) -> dict:
    r = returns(values)
    if len(r) < 2:
        return {
            "observations": len(r),
            "volatility": None,
            "beta": None,
            "sharpe": None,
            "max_drawdown": None,
            "var_95": None,
        }
    vol = float(np.std(r, ddof=1) * math.sqrt(TRADING_DAYS))
    values = np.asarray(values, dtype=float)
    drawdown = float(np.min(values / np.maximum.accumulate(values) - 1))
    beta = None
    if benchmark_returns is not None and len(benchmark_returns) == len(r):
        b = np.asarray(benchmark_returns, dtype=float)
        var_b = float(np.var(b, ddof=1))
        beta = float(np.cov(r, b, ddof=1)[0, 1] / var_b) if var_b > 0 else None
    sharpe = (float(np.mean(r)) * TRADING_DAYS - risk_free) / vol if vol > 0 else None
    var_95 = float(-np.quantile(r, 0.05) * values[-1])
    return {
        "observations": len(r),
        "volatility": vol,
        "beta": beta,
        "sharpe": sharpe,
        "max_drawdown": drawdown,
        "var_95": var_95,
    }
