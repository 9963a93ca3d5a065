"""How many decimals a number is sent with, decided once for the whole API.

Values in the warehouse are doubles (``94.31999999999998``); what the API sends is what a
person reads and a client stores, so every float field says its precision:

=================  ========  ==============================================================
field type         decimals  used for
=================  ========  ==============================================================
``Price``          4         prices and money: OHLC, change, 52-week range, cost, value,
                             P&L, alert levels, and indicators in price units (SMA, EMA,
                             Bollinger bands, ATR, MACD)
``Percent``        2         percentages (0–100 scale): change %, P&L %, RSI
``Ratio``          4         fractions and multiples: weights, volatility, beta, Sharpe,
                             drawdown, VaR, volume ratio
``Quantity``       6         share counts (the database keeps numeric(20, 6))
``WholeNumber``    0         volumes and averages of volumes (integers)
=================  ========  ==============================================================

Rounding happens where the JSON is shaped: marshmallow's dump for most endpoints, and,
for the hot endpoints whose JSON PostgreSQL builds (``schemas.json_object_sql``), the
same rule as SQL (``round(x::numeric, n)::float8``: half away from zero in both). The
OpenAPI document states each field's precision.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marshmallow import fields


class Rounded(fields.Float):
    """A float sent rounded to ``places`` decimals (the class attribute)."""

    places = 4

    def __init__(self, **kwargs) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        note = f"Rounded to {self.places} decimal places."
        described = metadata.get("description")
        metadata["description"] = f"{described}. {note}" if described else note
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return round_half_away(float(value), self.places)

    def sql(self, expression: str) -> str:
        """The same rounding in PostgreSQL (numeric rounds half away from zero)."""
        return f"round(({expression})::numeric, {self.places})::float8"


def round_half_away(value: float, places: int) -> float:
    """Round as PostgreSQL does ``round(x::numeric, n)``: the double is first read to 15
    significant digits (PostgreSQL's float8 → numeric), then rounded half away from zero
    (2.345 → 2.35, where Python's ``round`` gives 2.34 from the binary value)."""
    if not math.isfinite(value):
        return value
    try:
        exact = Decimal(f"{value:.15g}")
        return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # beyond 28 digits: no fraction worth rounding is left
        return value


class Price(Rounded):
    places = 4


class Percent(Rounded):
    places = 2


class Ratio(Rounded):
    places = 4


class Quantity(Rounded):
    places = 6


class WholeNumber(fields.Integer):
    """An integer; a fractional value (an average volume) is rounded, not truncated."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return int(round_half_away(float(value), 0))

    @staticmethod
    def sql(expression: str) -> str:
        return f"round(({expression})::numeric)::bigint"
