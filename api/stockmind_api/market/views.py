"""``/api/market``: symbols, a stock's summary and history, indicators, the scanner.

Public (no token). Views validate input, call ``queries`` and wrap the result in
the envelope; unknown symbols and dates are 404, malformed input 422. The symbol list and
the scanner read dbt's tables only: they are cached until the next build
(``response_cache``), with ``ETag`` and ``Cache-Control``.
"""

from __future__ import annotations

import datetime as dt
import math

from flask_smorest import abort
from stockmind.universe import SYMBOL_RE

from stockmind_api.database import db
from stockmind_api.errors import success, success_json
from stockmind_api.market import queries as q
from stockmind_api.market.schemas import (
    IndicatorSchema,
    RangeArgsSchema,
    ScannerArgsSchema,
    ScannerSchema,
    StockArgsSchema,
    StockSchema,
    SymbolArgsSchema,
    SymbolSchema,
    symbol_path_parameter,
)
from stockmind_api.parsing import Blueprint
from stockmind_api.response_cache import CACHE_HEADERS, cached
from stockmind_api.schemas import envelope, paginated

blp = Blueprint("market", __name__, url_prefix="/api/market", description="Market data (public)")


def symbol_or_404(symbol: str) -> str:
    symbol = symbol.upper()
    if not SYMBOL_RE.fullmatch(symbol):
        abort(422, message=f"not a ticker symbol: {symbol!r}", errors={"symbol": ["invalid"]})
    return symbol


# -- views ----------------------------------------------------------------------------
@blp.route("/symbols")
@blp.arguments(SymbolArgsSchema, location="query")
@blp.alt_response(304, response="NOT_MODIFIED")
@cached
@blp.response(200, envelope(paginated(SymbolSchema)), headers=CACHE_HEADERS)
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


@blp.route("/stock/<symbol>", parameters=[symbol_path_parameter()])
@blp.arguments(StockArgsSchema, location="query")
@blp.response(200, envelope(StockSchema))
def stock(args, symbol):
    """Latest price, change, 52-week range, latest indicators and price history."""
    symbol = symbol_or_404(symbol)
    data = q.stock_json(db(), symbol, args.get("start"), args.get("end"), args["interval"])
    if data is None:
        abort(404, message=f"unknown symbol {symbol}")
    return success_json(data, symbol)


@blp.route("/stock/<symbol>/indicators", parameters=[symbol_path_parameter()])
@blp.arguments(RangeArgsSchema, location="query")
@blp.response(200, envelope(IndicatorSchema, many=True))
def indicators(args, symbol):
    """The full indicator series between start and end (default: the last year)."""
    symbol = symbol_or_404(symbol)
    if not q.symbol_exists(db(), symbol):
        abort(404, message=f"unknown symbol {symbol}")
    end = args.get("end") or dt.date.today()
    start = args.get("start") or end - dt.timedelta(days=365)
    rows = q.indicator_series(db(), symbol, start, end)
    return success(rows, f"{len(rows)} rows")


@blp.route("/scanner")
@blp.arguments(ScannerArgsSchema, location="query")
@blp.alt_response(304, response="NOT_MODIFIED")
@cached
@blp.response(200, envelope(ScannerSchema), headers=CACHE_HEADERS)
def scanner(args):
    """Gainers, losers, most active, unusual volume, breakouts and the market overview."""
    timeframe = args["timeframe"]
    scan = q.scanner_json(db(), timeframe, args.get("date"), top=10)
    if scan is None:
        abort(404, message=f"no {timeframe} scan for {args.get('date') or 'any date'}")
    period, data = scan
    return success_json(data, f"{timeframe} scan of {period}")
