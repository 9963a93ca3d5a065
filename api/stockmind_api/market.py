"""``/api/market``: symbols, a stock's summary and history, indicators, the scanner.

Public (no token). Views validate input, call ``market_queries`` and wrap the result in
the envelope; unknown symbols and dates are 404, malformed input 422.
"""

from __future__ import annotations

import datetime as dt
import math

from flask_smorest import Blueprint, abort
from marshmallow import ValidationError, fields, validate, validates_schema
from stockmind.universe import SYMBOL_RE

from stockmind_api import market_queries as q
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.schemas import CamelSchema, PageArgsSchema, envelope, paginated

blp = Blueprint("market", __name__, url_prefix="/api/market", description="Market data (public)")


def symbol_or_404(symbol: str) -> str:
    symbol = symbol.upper()
    if not SYMBOL_RE.match(symbol):
        abort(422, message=f"not a ticker symbol: {symbol!r}", errors={"symbol": ["invalid"]})
    return symbol


# -- schemas --------------------------------------------------------------------------
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
    start = fields.Date()
    end = fields.Date()

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("start must not be after end", "start")


class StockArgsSchema(RangeArgsSchema):
    interval = fields.String(load_default="1d", validate=validate.OneOf(["1d", "1w"]))


class BarSchema(CamelSchema):
    date = fields.Date()
    open = fields.Float()
    high = fields.Float()
    low = fields.Float()
    close = fields.Float()
    volume = fields.Integer()


class IndicatorSchema(CamelSchema):
    trade_date = fields.Date()
    for _name in (
        "sma_20",
        "sma_50",
        "sma_200",
        "ema_12",
        "ema_26",
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "atr_14",
    ):
        locals()[_name] = fields.Float(allow_none=True)
    obv = fields.Integer(allow_none=True)
    del _name


class StockSchema(SymbolSchema):
    trade_date = fields.Date(allow_none=True)
    price = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    change_percent = fields.Float(allow_none=True)
    volume = fields.Integer(allow_none=True)
    high_52w = fields.Float(allow_none=True, data_key="high52w")
    low_52w = fields.Float(allow_none=True, data_key="low52w")
    indicators = fields.Nested(IndicatorSchema, allow_none=True)
    historical_data = fields.Nested(BarSchema, many=True)


class ScannerArgsSchema(CamelSchema):
    timeframe = fields.String(load_default="daily", validate=validate.OneOf(["daily", "weekly"]))
    date = fields.Date()


class MoverSchema(CamelSchema):
    rank = fields.Integer()
    symbol = fields.String()
    close = fields.Float()
    change_pct = fields.Float(allow_none=True, data_key="changePercent")
    volume = fields.Integer()


class UnusualSchema(CamelSchema):
    symbol = fields.String()
    close = fields.Float()
    change_pct = fields.Float(allow_none=True, data_key="changePercent")
    volume = fields.Integer()
    avg_volume = fields.Float()
    volume_ratio = fields.Float()


class BreakoutSchema(CamelSchema):
    symbol = fields.String()
    close = fields.Float()
    change_pct = fields.Float(allow_none=True, data_key="changePercent")
    prior_high = fields.Float(allow_none=True)
    prior_low = fields.Float(allow_none=True)
    direction = fields.String()


class OverviewSchema(CamelSchema):
    total_scanned = fields.Integer()
    bullish = fields.Integer()
    bearish = fields.Integer()
    neutral = fields.Integer()
    avg_change_pct = fields.Float(allow_none=True, data_key="avgChangePercent")
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


# -- views ----------------------------------------------------------------------------
@blp.route("/symbols")
@blp.arguments(SymbolArgsSchema, location="query")
@blp.response(200, envelope(paginated(SymbolSchema)))
def symbols(args):
    """Active symbols, searched by ticker prefix or name, filtered by sector, paginated."""
    page, size = args["page"], args["page_size"]
    items, total = q.search_symbols(db(), args.get("search"), args.get("sector"), page, size)
    pagination = {
        "page": page,
        "page_size": size,
        "total": total,
        "total_pages": math.ceil(total / size),
    }
    return success({"items": items, "pagination": pagination}, f"{total} symbols")


@blp.route("/stock/<symbol>")
@blp.arguments(StockArgsSchema, location="query")
@blp.response(200, envelope(StockSchema))
def stock(args, symbol):
    """Latest price, change, 52-week range, latest indicators and price history."""
    symbol = symbol_or_404(symbol)
    summary = q.stock_summary(db(), symbol)
    if summary is None:
        abort(404, message=f"unknown symbol {symbol}")
    end = args.get("end") or summary["trade_date"] or dt.date.today()
    start = args.get("start") or end - dt.timedelta(days=365)
    summary["indicators"] = q.latest_indicators(db(), symbol)
    summary["historical_data"] = q.bars(db(), symbol, start, end, args["interval"])
    return success(summary, symbol)


@blp.route("/stock/<symbol>/indicators")
@blp.arguments(RangeArgsSchema, location="query")
@blp.response(200, envelope(IndicatorSchema, many=True))
def indicators(args, symbol):
    """The full indicator series between start and end (default: the last year)."""
    symbol = symbol_or_404(symbol)
    if q.stock_summary(db(), symbol) is None:
        abort(404, message=f"unknown symbol {symbol}")
    end = args.get("end") or dt.date.today()
    start = args.get("start") or end - dt.timedelta(days=365)
    rows = q.indicator_series(db(), symbol, start, end)
    return success(rows, f"{len(rows)} rows")


@blp.route("/scanner")
@blp.arguments(ScannerArgsSchema, location="query")
@blp.response(200, envelope(ScannerSchema))
def scanner(args):
    """Gainers, losers, most active, unusual volume, breakouts and the market overview."""
    timeframe = args["timeframe"]
    if args.get("date"):
        period = q.period_of(db(), timeframe, args["date"])
    else:
        period = q.latest_period(db(), timeframe)
    if period is None:
        abort(404, message=f"no {timeframe} scan for {args.get('date') or 'any date'}")
    top = 10
    return success(q.scanner(db(), timeframe, period, top), f"{timeframe} scan of {period}")


def _not_yet(kind: str, relation: str, symbol: str):
    symbol = symbol_or_404(symbol)
    if not q.table_exists(db(), relation):
        abort(404, message=f"no {kind} data yet for {symbol}")
    abort(404, message=f"no {kind} data for {symbol}")


@blp.route("/predictions/<symbol>")
@blp.response(200, envelope(SymbolSchema))
def predictions(symbol):
    """Forecasts (7/30/90 days) — 404 until the forecasting pipeline has written any."""
    _not_yet("prediction", "marts.fct_predictions", symbol)


@blp.route("/sentiment/<symbol>")
@blp.response(200, envelope(SymbolSchema))
def sentiment(symbol):
    """News sentiment — 404 until the sentiment pipeline has written any."""
    _not_yet("sentiment", "marts.fct_sentiment_daily", symbol)


@blp.route("/news/<symbol>")
@blp.response(200, envelope(SymbolSchema))
def news(symbol):
    """News articles — 404 until the news pipeline has written any."""
    _not_yet("news", "raw.news_articles", symbol)
