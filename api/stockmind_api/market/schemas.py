"""Wire shapes of ``/api/market`` (camelCase via ``CamelSchema``).

They document the OpenAPI responses, and ``json_object_sql`` turns them into the SQL that
renders the hot endpoints' JSON inside PostgreSQL, so the keys are defined once.
"""

from __future__ import annotations

import datetime as dt

from marshmallow import ValidationError, fields, validate, validates_schema

from stockmind_api.precision import Percent, Price, Ratio, WholeNumber
from stockmind_api.schemas import SYMBOL_PATTERN, CalendarDate, CamelSchema, PageArgsSchema


def symbol_path_parameter() -> dict:
    """The ``{symbol}`` path parameter as the views check it (``symbol_or_404``)."""
    return {
        "in": "path",
        "name": "symbol",
        "description": "A ticker symbol (case-insensitive).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": SYMBOL_PATTERN},
    }


class SymbolArgsSchema(PageArgsSchema):
    search = fields.String(validate=validate.Length(min=1, max=50))
    sector = fields.String(validate=validate.Length(min=1, max=100))


class SymbolSchema(CamelSchema):
    symbol = fields.String()
    name = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    exchange = fields.String(allow_none=True)
    market_cap = fields.Integer(allow_none=True)


class RangeArgsSchema(CamelSchema):
    start = CalendarDate(
        metadata={"description": "First day; not after end (nor after today without end)"}
    )
    end = CalendarDate(metadata={"description": "Last day; not before start"})

    @validates_schema
    def ordered(self, data, **kwargs):
        """start ≤ end; without end, start ≤ today (every default end is today or earlier)."""
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("start must not be after end", "start")
        if start and not end and start > dt.date.today():
            raise ValidationError("start must not be in the future when end is omitted", "start")


class StockArgsSchema(RangeArgsSchema):
    interval = fields.String(load_default="1d", validate=validate.OneOf(["1d", "1w"]))


class BarSchema(CamelSchema):
    date = fields.Date()
    open = Price()
    high = Price()
    low = Price()
    close = Price()
    volume = WholeNumber()


class IndicatorSchema(CamelSchema):
    trade_date = fields.Date()
    for _name in (
        "sma_20",
        "sma_50",
        "sma_200",
        "ema_12",
        "ema_26",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "atr_14",
    ):
        locals()[_name] = Price(allow_none=True)  # in price units
    rsi_14 = Percent(allow_none=True)  # 0-100
    obv = WholeNumber(allow_none=True)
    del _name


class StockSchema(SymbolSchema):
    trade_date = fields.Date(allow_none=True)
    price = Price(allow_none=True)
    change = Price(allow_none=True)
    change_percent = Percent(allow_none=True)
    volume = WholeNumber(allow_none=True)
    high_52w = Price(allow_none=True, data_key="high52w")
    low_52w = Price(allow_none=True, data_key="low52w")
    indicators = fields.Nested(IndicatorSchema, allow_none=True)
    historical_data = fields.Nested(BarSchema, many=True)


class ScannerArgsSchema(CamelSchema):
    timeframe = fields.String(load_default="daily", validate=validate.OneOf(["daily", "weekly"]))
    date = CalendarDate(metadata={"description": "A day of the scan's period"})


class MoverSchema(CamelSchema):
    rank = fields.Integer()
    symbol = fields.String()
    close = Price()
    change_pct = Percent(allow_none=True, data_key="changePercent")
    volume = WholeNumber()


class UnusualSchema(CamelSchema):
    symbol = fields.String()
    close = Price()
    change_pct = Percent(allow_none=True, data_key="changePercent")
    volume = WholeNumber()
    avg_volume = WholeNumber()
    volume_ratio = Ratio()


class BreakoutSchema(CamelSchema):
    symbol = fields.String()
    close = Price()
    change_pct = Percent(allow_none=True, data_key="changePercent")
    prior_high = Price(allow_none=True)
    prior_low = Price(allow_none=True)
    direction = fields.String()


class OverviewSchema(CamelSchema):
    total_scanned = fields.Integer()
    bullish = fields.Integer()
    bearish = fields.Integer()
    neutral = fields.Integer()
    avg_change_pct = Percent(allow_none=True, data_key="avgChangePercent")
    advancers = fields.Integer()
    decliners = fields.Integer()
    unchanged = fields.Integer()
    unusual_volume = fields.Integer()
    breakouts_up = fields.Integer()
    breakouts_down = fields.Integer()


class ScannerSchema(CamelSchema):
    timeframe = fields.String()
    period_start = fields.Date()
    trade_date = fields.Date(allow_none=True)
    gainers = fields.Nested(MoverSchema, many=True)
    losers = fields.Nested(MoverSchema, many=True)
    most_active = fields.Nested(MoverSchema, many=True)
    unusual_volume = fields.Nested(UnusualSchema, many=True)
    breakouts = fields.Nested(BreakoutSchema, many=True)
    market_overview = fields.Nested(OverviewSchema, allow_none=True)
