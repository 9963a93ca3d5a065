"""Synthetic intraday quotes for the ``sample`` source — SYNTHETIC, like its daily bars.

A quote at minute *m* of a local calendar day is a random walk from the symbol's previous
sample close (the last trading day before that date), so the demo moves at any hour and a
poll repeated for the same minute returns the same quote (idempotent re-runs). The walk
runs over the whole day (1,440 minutes), not only the 390 of the NYSE session: the
demo's clock is overridable (``STOCKMIND_MARKET_HOURS=always``), the walk should be too.
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from stockmind.providers.base import QUOTE_COLUMNS
from stockmind.providers.synthetic import closes_before, symbol_params

MINUTES = 1440
SESSION_MINUTES = 390


@lru_cache(maxsize=4096)
def previous_close(symbol: str, day: dt.date) -> float | None:
    """The sample close of the last trading day before ``day`` (that one day's bar only)."""
    return closes_before([symbol], day).get(symbol)


@lru_cache(maxsize=4096)
def _day_path(symbol: str, day: dt.date, vol: float, volume0: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng([zlib.crc32(symbol.encode()), day.toordinal(), 3])
    z = rng.standard_normal((MINUTES, 2))
    steps = (vol / np.sqrt(SESSION_MINUTES)) * z[:, 0]
    steps[0] += 0.002 * z[0, 1]  # the opening gap
    walk = np.cumsum(steps)
    per_minute = volume0 / SESSION_MINUTES * np.exp(0.5 * z[:, 1] - 0.125)
    return walk, np.maximum.accumulate(walk), np.minimum.accumulate(walk), np.cumsum(per_minute)


def synthetic_quote(symbol: str, at: dt.datetime, tz: str = "America/New_York") -> dict | None:
    """The sample quote of ``symbol`` for the minute holding ``at`` (None: no history)."""
    local = at.astimezone(ZoneInfo(tz))
    prev = previous_close(symbol, local.date())
    if prev is None:
        return None
    params = symbol_params(symbol)
    walk, high, low, volume = _day_path(symbol, local.date(), params["vol"], params["volume0"])
    m = local.hour * 60 + local.minute
    minute = at.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return {
        "symbol": symbol,
        "ts": minute,
        "price": round(prev * float(np.exp(walk[m])), 2),
        "day_open": round(prev * float(np.exp(walk[0])), 2),
        "day_high": round(prev * float(np.exp(high[m])), 2),
        "day_low": round(prev * float(np.exp(low[m])), 2),
        "volume": int(volume[m]),
        "prev_close": prev,
    }


def quote_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=QUOTE_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame
