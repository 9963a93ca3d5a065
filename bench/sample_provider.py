"""Sample-provider benchmark (issue 15): synthetic bars at the cost of the interval asked for.

The old model walked each symbol's series from the epoch (2000) on every call, so one day
cost as much as 27 years; the new one (``providers.synthetic``) reaches any day through
counter-based draws and a block-sum hierarchy. Measured in one run, on this machine, with
the same symbols and cold per-symbol caches:

* one day and one week for N symbols (default 10,000: the 505 S&P 500 symbols, then
  hashed names), one year and the full history since the epoch for the S&P 500 — the old
  model (kept below, verbatim, as the baseline) against the new;
* the character of both models on the S&P 500 since 2021: daily returns against each
  symbol's volatility, their tails, overnight gaps, levels against the reference price.

Usage: ``python bench/sample_provider.py [--symbols N] [--old-limit M] [--repeat R] [--write docs/benchmarks.md]``
(``--old-limit`` times the old model on its first M symbols and scales linearly —
labelled so in the report — when the full baseline would take too long).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from common import write_section
from scipy.signal import lfilter
from stockmind.providers import synthetic
from stockmind.providers.base import PRICE_COLUMNS, empty_prices
from stockmind.providers.sample import SampleProvider
from stockmind.providers.synthetic import ANCHOR, EPOCH, MEAN_REVERSION, symbol_params
from stockmind.trading_calendar import trading_days
from stockmind.universe import resolve_universe

END = dt.date(2026, 11, 20)


# --- the old model, verbatim (providers/synthetic.py before issue 15): the baseline ---


@lru_cache(maxsize=8)
def _old_calendar(end: dt.date) -> tuple[dt.date, ...]:
    return tuple(trading_days(EPOCH, end))


def _walk_from_epoch(symbol: str, n: int, p: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([zlib.crc32(symbol.encode()), 2])
    z = rng.standard_normal((n, 6))
    jumps = np.where(np.abs(z[:, 5]) > 2.8, 3.0 * p["vol"] * np.sign(z[:, 5]), 0.0)
    deviation = lfilter([1.0], [1.0, -(1 - MEAN_REVERSION)], p["vol"] * z[:, 0] + jumps)
    log_price = p["drift"] * np.arange(1, n + 1) + deviation
    return z, np.diff(log_price, prepend=0.0)


@lru_cache(maxsize=4096)
def _old_base_price(symbol: str) -> float:
    p = symbol_params(symbol)
    _, ret = _walk_from_epoch(symbol, len(_old_calendar(ANCHOR)), p)
    return p["reference"] / float(np.exp(np.cumsum(ret)[-1]))


def _old_synthetic_bars(symbol: str, end: dt.date) -> pd.DataFrame:
    days = _old_calendar(end)
    n = len(days)
    if n == 0:
        return empty_prices()
    p = symbol_params(symbol)
    z, ret = _walk_from_epoch(symbol, n, p)
    base = _old_base_price(symbol)
    gap = p["gap_share"] * ret + 0.002 * z[:, 1]
    intraday = ret - gap
    close = base * np.exp(np.cumsum(ret))
    prev_close = np.concatenate([[base], close[:-1]])
    open_ = prev_close * np.exp(gap)
    close = open_ * np.exp(intraday)
    high = np.maximum(open_, close) * np.exp(0.5 * p["vol"] * np.abs(z[:, 2]))
    low = np.minimum(open_, close) * np.exp(-0.5 * p["vol"] * np.abs(z[:, 3]))
    volume = np.round(p["volume0"] * np.exp(0.35 * z[:, 4] + 8.0 * np.abs(ret))).astype("int64")
    open_, close = np.round(open_, 2), np.round(close, 2)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.minimum(np.round(low, 2), np.minimum(open_, close))
    return pd.DataFrame(
        {"symbol": symbol, "trade_date": pd.to_datetime(list(days)), "open": open_,
         "high": high, "low": low, "close": close, "adj_close": close, "volume": volume},
        columns=PRICE_COLUMNS,
    )  # fmt: skip


def old_fetch_daily(symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    frames = []
    for symbol in symbols:
        bars = _old_synthetic_bars(symbol, end)
        frames.append(bars[bars["trade_date"] >= pd.Timestamp(start)])
    return pd.concat(frames, ignore_index=True) if frames else empty_prices()


def new_fetch_daily(symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    return SampleProvider().fetch_daily(symbols, start, end).frame


# --- measuring ---


def cold() -> None:
    """Forget every per-symbol cache of both models (the calendars stay warm)."""
    synthetic._trait_draws.cache_clear()
    synthetic._BASES.clear()
    _old_base_price.cache_clear()


def timed(
    fetch: Callable, symbols: Sequence[str], start: dt.date, limit: int | None, repeat: int
) -> dict:
    """The best of ``repeat`` cold calls, in seconds (scaled from the first ``limit``
    symbols when given): the best, because other work on the machine only adds time."""
    some = list(symbols[:limit]) if limit else list(symbols)
    best = float("inf")
    for _ in range(repeat):
        cold()
        started = time.perf_counter()
        rows = len(fetch(some, start, END))
        best = min(best, time.perf_counter() - started)
    scale = len(symbols) / len(some)
    return {
        "seconds": best * scale,
        "rows": int(rows * scale),
        "scaled": len(some) if scale > 1 else 0,
    }


def universe(n: int) -> list[str]:
    sp500 = resolve_universe("sp500")
    return (sp500 + [f"SYN{i:05d}" for i in range(max(n - len(sp500), 0))])[:n]


def character(frame: pd.DataFrame) -> dict[str, float]:
    """Model statistics: returns over each symbol's vol, tails, gaps, level band."""
    frame = frame.sort_values(["symbol", "trade_date"])
    g = frame.groupby("symbol", sort=False)
    ret = np.log(frame["close"]).groupby(frame["symbol"], sort=False).diff()
    vol = frame["symbol"].map(lambda s: symbol_params(s)["vol"])
    z = (ret / vol).dropna()
    gap = (frame["open"] / g["close"].shift(1) - 1).abs().dropna()
    ref = frame["symbol"].map(lambda s: symbol_params(s)["reference"])
    band = (frame["close"] / ref).groupby(frame["symbol"], sort=False).agg(["min", "max"])
    return {
        "sd of daily log return / vol": float(z.std()),
        "excess kurtosis of returns / vol": float(z.kurt()),
        "days with a return beyond ±4 vol (%)": float(100 * (z.abs() > 4).mean()),
        "mean overnight gap, abs(open / prev close − 1) (%)": float(100 * gap.mean()),
        "median of each symbol's lowest close / reference": float(band["min"].median()),
        "median of each symbol's highest close / reference": float(band["max"].median()),
        "median volume / volume0": float(
            (frame["volume"] / frame["symbol"].map(lambda s: symbol_params(s)["volume0"])).median()
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--old-limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--write", default=None)
    args = parser.parse_args()
    many, sp500 = universe(args.symbols), resolve_universe("sp500")
    week = trading_days(END - dt.timedelta(days=6), END)[0]
    year = END.replace(year=END.year - 1)
    new_fetch_daily(["AAPL"], END, END), old_fetch_daily(["AAPL"], END, END)  # calendars warm
    cases = [
        (f"one day × {len(many):,}", many, END),
        (f"one week × {len(many):,}", many, week),
        (f"one year × {len(sp500)}", sp500, year),
        (f"since {EPOCH} × {len(sp500)}", sp500, EPOCH),
    ]
    results, load = [], os.getloadavg()[0]
    for name, symbols, start in cases:
        new = timed(new_fetch_daily, symbols, start, None, args.repeat)
        old = timed(old_fetch_daily, symbols, start, args.old_limit, args.repeat)
        print(f"{name}: old {old['seconds']:.2f} s, new {new['seconds']:.3f} s", flush=True)
        results.append((name, old, new))
    since = dt.date(2021, 1, 1)
    stats = (character(old_fetch_daily(sp500, since, END)), character(new_fetch_daily(sp500, since, END)))  # fmt: skip
    report = render(results, stats, since, args.repeat, (load, os.getloadavg()[0]))
    print(report)
    if args.write:
        write_section(args.write, "sample_provider", report)
    return 0


def render(
    results: list, stats: tuple[dict, dict], since: dt.date, repeat: int, load: tuple
) -> str:
    rows = [
        "| request (cold caches) | bars | old: walk from 2000 | new: interval cost | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, old, new in results:
        mark = f" (from {old['scaled']:,} symbols, scaled)" if old["scaled"] else ""
        rows.append(
            f"| {name} | {new['rows']:,} | {old['seconds']:.2f} s{mark} | {new['seconds']:.3f} s | {old['seconds'] / new['seconds']:,.0f}× |"
        )
    char = [
        "| model statistic (S&P 500, " + f"{since} .. {END})" + " | old | new |",
        "|---|---:|---:|",
    ]
    char += [f"| {k} | {stats[0][k]:.3f} | {v:.3f} |" for k, v in stats[1].items()]
    return "\n".join(
        [
            "## Sample provider: bars at the cost of the interval",
            "",
            f"`python bench/sample_provider.py` on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {sys.version.split()[0]}, {dt.date.today()}. The best of {repeat} cold call(s) each (per-symbol "
            "caches cleared, the trading calendar warm); the old model is the pre-issue-15 walk "
            f"from the epoch, kept verbatim in the script. Load average {load[0]:.1f} at the "
            f"start, {load[1]:.1f} at the end (other work on the machine slows both models).",
            "",
            *rows,
            "",
            "Both models' character — the new draws differ, the statistics stay:",
            "",
            *char,
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
