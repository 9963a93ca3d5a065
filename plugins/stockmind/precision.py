"""How many decimals a number leaves the platform with: decided once, here.

Values in the warehouse are doubles (``94.31999999999998``); what the API and the
WebSocket messages send is what a person reads and a client stores:

============  ========  ==================================================================
kind          decimals  used for
============  ========  ==================================================================
``price``     4         prices and money: OHLC, change, 52-week range, cost, value, P&L,
                        alert levels, and indicators in price units (SMA, EMA, Bollinger
                        bands, ATR, MACD)
``percent``   2         percentages (0–100 scale): change %, P&L %, RSI
``ratio``     4         fractions and multiples: weights, volatility, beta, Sharpe,
                        drawdown, VaR, volume ratio
``quantity``  6         share counts (the database keeps numeric(20, 6))
``entered``   6         values a user typed in (average price, alert levels), echoed at
                        the precision they are stored with (numeric(20, 6))
``seconds``   3         durations and times in seconds (health)
``whole``     0         volumes and averages of volumes (integers)
============  ========  ==================================================================

Two paths apply it with the same result: Python (:func:`round_half_away`) and SQL
(:func:`sql_round`, ``round(x::numeric, n)``) — both round half away from zero from the
double read to 15 significant digits, as PostgreSQL converts float8 to numeric.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PLACES = {
    "price": 4,
    "percent": 2,
    "ratio": 4,
    "quantity": 6,
    "entered": 6,
    "seconds": 3,
    "whole": 0,
}


def round_half_away(value: float | int | Decimal, places: int) -> float | int:
    """Round as PostgreSQL's ``round(x::numeric, n)`` (2.345 → 2.35, where Python's
    ``round`` gives 2.34 from the binary value). An integer is exact already; a Decimal
    (a numeric column) is rounded as it is, not through a double."""
    if isinstance(value, int):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return value
    try:
        exact = value if isinstance(value, Decimal) else Decimal(f"{value:.15g}")
        return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # beyond 28 digits: no fraction worth rounding is left
        return value


def sql_round(expression: str, kind: str) -> str:
    """``expression`` rounded to the decimals of ``kind``, in SQL (a float8 or bigint)."""
    places = PLACES[kind]
    if places == 0:
        return f"round(({expression})::numeric)::bigint"
    return f"round(({expression})::numeric, {places})::float8"
