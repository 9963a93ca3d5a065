"""The synthetic price model behind the ``sample`` source — SYNTHETIC data.

Each symbol gets a log-price random walk around a drift line (slowly mean-reverting),
fat-tailed jumps, overnight gaps, intraday ranges that bracket open and close, and volume
that rises with the size of the move, on the NYSE trading calendar (holidays are real
gaps in the dates).

Levels are anchored: a symbol's series is scaled so that its close on ``ANCHOR`` equals
its reference price — a realistic level for the sample universe
(``data/universe_sample.csv``), a hash-derived one in $15–$400 for any other symbol. The
mean reversion keeps the walk within a plausible band of that level for years either side.

Any interval costs what its days cost, not a walk from the epoch (issue 15: one day for
10,000 symbols took 29 s). Every random draw is counter-based — a hash of (symbol, stream,
index), never a sequential generator — and the AR(1) deviation's state on any day comes
from a hierarchy of block sums (4,096, 256 and 16 trading days): a block's weighted sum is
drawn first, its 16 children are drawn *conditioned on it* (exact for Gaussians), so a
day's innovation and the state before it are reached in a few dozen draws. Jumps are
sparse slots per 256-day window whose trace fades out after ``JUMP_MEMORY`` days.

Determinism is by construction: each day's values are computed by one fixed sequence of
operations on draws that depend on nothing but the symbol and the day, so any interval's
bars are identical, bit for bit, whether fetched alone or as part of a longer range — what
makes backfills and re-runs reproducible. Daily bars (``providers.sample``) and intraday
quotes (``providers.intraday``) both build on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zlib
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from stockmind.providers.base import PRICE_COLUMNS, empty_prices
from stockmind.trading_calendar import trading_days
from stockmind.universe import sample_reference_prices

EPOCH = dt.date(2000, 1, 3)
ANCHOR = dt.date(2024, 1, 2)  # the close on this trading day is the reference price
MEAN_REVERSION = 0.005  # AR(1) pull towards the drift line: half-life ~140 trading days
PHI = 1 - MEAN_REVERSION
BRANCH = 16
BLOCKS = (4096, 256, 16)  # hierarchy block lengths in trading days (~16 y, ~1 y, ~3 weeks)
JUMP_WINDOW, JUMP_SLOTS = 256, 8  # each 256-day window has 8 slots that may hold a jump
JUMP_MEMORY = 2048  # a jump's trace leaves the deviation after this many days (PHI**2048 ≈ 3.5e-5)
JUMP_CHANCE = JUMP_WINDOW * 2 * float(ndtr(-2.8)) / JUMP_SLOTS  # daily rate of |z| > 2.8
ROWS_PER_CHUNK = 1_000_000  # symbols are computed in chunks of about this many bars

# counter streams: 0-3 the hierarchy levels (3: the days' innovations), then the rest
_GAP, _HIGH, _LOW, _VOLUME, _JUMP_ON, _JUMP_DAY, _JUMP_SIGN = range(4, 11)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # splitmix64's increment and finaliser constants
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SD = tuple(math.sqrt((1 - PHI ** (2 * n)) / (1 - PHI**2)) for n in (*BLOCKS, 1))
_WEIGHTS = tuple(
    tuple(PHI ** ((n // BRANCH) * (BRANCH - 1 - i)) for i in range(BRANCH)) for n in BLOCKS
)
_NORMS = tuple(math.fsum(w * w for w in weights) for weights in _WEIGHTS)
_TRACE = np.array([PHI**k for k in range(JUMP_MEMORY)])
_BASES: dict[str, float] = {}  # per process: the anchor scale, cheap to recompute


@lru_cache(maxsize=16384)
def _trait_draws(symbol: str) -> tuple[float, ...]:
    """Six U(0, 1) draws fixing a symbol's traits (the same since before issue 15)."""
    return tuple(np.random.default_rng([zlib.crc32(symbol.encode()), 1]).random(6).tolist())


def _traits(symbols: Sequence[str]) -> dict[str, np.ndarray]:
    """Each symbol's fixed traits as arrays (one vectorised pass: no per-symbol NumPy
    scalar arithmetic, which cost more than the bars themselves)."""
    u = np.array([_trait_draws(s) for s in symbols]).reshape(-1, 6)
    hashed = np.exp(np.log(15) + u[:, 0] * (np.log(400) - np.log(15)))
    known = sample_reference_prices()
    reference = [known.get(s, round(h, 2)) for s, h in zip(symbols, hashed.tolist(), strict=True)]
    return {
        "reference": np.array(reference, dtype=np.float64),
        "drift": 0.00005 + 0.00025 * u[:, 1],
        "vol": 0.011 + 0.02 * u[:, 2],
        "volume0": np.exp(np.log(8e5) + u[:, 3] * (np.log(6e7) - np.log(8e5))),
        "gap_share": 0.2 + 0.3 * u[:, 4],
        "shares": np.exp(np.log(2e8) + u[:, 5] * (np.log(1.5e10) - np.log(2e8))),
    }


def symbol_params(symbol: str) -> dict[str, float]:
    """A symbol's fixed traits (reference price, drift, volatility, volume, shares)."""
    return {name: float(values[0]) for name, values in _traits([symbol]).items()}


def _key(symbol: str) -> int:
    digest = hashlib.blake2b(symbol.encode(), digest_size=8, person=b"stockmind-bars")
    return int.from_bytes(digest.digest(), "little")


def _uniform(keys: np.ndarray, stream: int, index: np.ndarray) -> np.ndarray:
    """U(0, 1) per key × index: splitmix64 at counter (stream, index) — a draw depends on
    its symbol, stream and index only, never on which other draws were made."""
    counter = np.atleast_1d(np.asarray(index, dtype=np.uint64)) | np.uint64(stream << 40)
    x = keys.reshape(-1, *([1] * counter.ndim)) + counter * _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    x = x ^ (x >> np.uint64(31))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _normal(keys: np.ndarray, stream: int, index: np.ndarray) -> np.ndarray:
    return ndtri(_uniform(keys, stream, index))


@cache
def _year_start(year: int) -> int:
    """The index (trading days since the epoch) of ``year``'s first trading day."""
    if year <= EPOCH.year:
        return 0
    last_year = trading_days(dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))
    return _year_start(year - 1) + len(last_year)


def day_index(day: dt.date) -> int:
    """Trading days from the epoch to ``day`` (its position in the calendar since then)."""
    before = trading_days(dt.date(day.year, 1, 1), day - dt.timedelta(days=1))
    return _year_start(day.year) + len(before)


def _deviation(keys: np.ndarray, first: int, last: int) -> np.ndarray:
    """The unit AR(1) state G_n = PHI·G_(n-1) + e_n (G_-1 = 0, e iid N(0, 1)) for days
    ``first``..``last``, from the block-sum hierarchy: a few dozen draws plus the days."""
    top = BLOCKS[0]
    sums = _SD[0] * _normal(keys, 0, np.arange(last // top + 1))
    state, starts = np.zeros(len(keys)), []
    for t in range(last // top + 1):  # a handful: one per ~16 years since the epoch
        starts.append(state)
        state = PHI**top * state + sums[:, t]
    block = first // top
    starts, sums = np.stack(starts[block:], axis=1), sums[:, block:]
    for level, length in enumerate(BLOCKS):
        child, weights = length // BRANCH, _WEIGHTS[level]
        index = (block + np.arange(sums.shape[1]))[:, None] * BRANCH + np.arange(BRANCH)
        fresh = _SD[level + 1] * _normal(keys, level + 1, index)  # (symbols, blocks, 16)
        residual = sums  # the parent's sum the unconditioned children miss, spread by weight
        for i, w in enumerate(weights):
            residual = residual - w * fresh[:, :, i]
        scale = residual / _NORMS[level]
        child_sums, child_starts = np.empty_like(fresh), np.empty_like(fresh)
        state = starts
        for i, w in enumerate(weights):
            child_sums[:, :, i] = fresh[:, :, i] + w * scale
            child_starts[:, :, i] = state
            state = PHI**child * state + child_sums[:, :, i]
        lo, hi = first // child - block * BRANCH, last // child - block * BRANCH
        sums = child_sums.reshape(len(keys), -1)[:, lo : hi + 1]
        starts = child_starts.reshape(len(keys), -1)[:, lo : hi + 1]
        block = first // child
    return PHI * starts + sums  # the last level's children are days: G_n from G_(n-1)


def _jumps(keys: np.ndarray, vol: np.ndarray, first: int, last: int) -> np.ndarray:
    """Each day's trace of past jumps (±3 vol, fading like the deviation) for days
    ``first``..``last``, each day summed in one fixed order: the 7 windows before its own
    (all live all window long, carried to its window's start), then the 2 edge windows."""
    back = JUMP_MEMORY // JUMP_WINDOW
    w_first, w_last = max(first // JUMP_WINDOW - back, 0), last // JUMP_WINDOW
    slot = np.arange(w_first * JUMP_SLOTS, (w_last + 1) * JUMP_SLOTS)
    offset = np.floor(_uniform(keys, _JUMP_DAY, slot) * JUMP_WINDOW).astype(np.int64)
    day = (slot // JUMP_SLOTS) * JUMP_WINDOW + offset
    sign = np.where(_uniform(keys, _JUMP_SIGN, slot) < 0.5, -3.0, 3.0)
    size = np.where(_uniform(keys, _JUMP_ON, slot) < JUMP_CHANCE, sign * vol[:, None], 0.0)
    out = np.empty((len(keys), last - first + 1))

    def slots_of(v: int) -> range:  # window v's columns
        return range((v - w_first) * JUMP_SLOTS, (v - w_first + 1) * JUMP_SLOTS)

    for w in range(first // JUMP_WINDOW, w_last + 1):
        start = w * JUMP_WINDOW
        lo, hi = max(start, first), min(start + JUMP_WINDOW - 1, last)
        n = np.arange(lo, hi + 1)[None, :]
        carried = np.zeros(len(keys))
        for j in (j for v in range(max(w - back + 1, 0), w) for j in slots_of(v)):
            carried = carried + size[:, j] * _TRACE[start - day[:, j]]
        trace = carried[:, None] * _TRACE[n - start]
        for j in (j for v in (w - back, w) if v >= 0 for j in slots_of(v)):
            age = n - day[:, j : j + 1]
            faded = size[:, j : j + 1] * _TRACE[age.clip(0, JUMP_MEMORY - 1)]
            trace = trace + np.where((age >= 0) & (age < JUMP_MEMORY), faded, 0.0)
        out[:, lo - first : hi - first + 1] = trace
    return out


def _log_prices(keys: np.ndarray, p: dict[str, np.ndarray], first: int, last: int) -> np.ndarray:
    """Log price over the scale: drift line + deviation + jump traces, days first..last."""
    n = np.arange(first, last + 1)[None, :]
    walk = p["vol"][:, None] * _deviation(keys, first, last)
    return p["drift"][:, None] * (n + 1) + walk + _jumps(keys, p["vol"], first, last)


def _base_prices(symbols: Sequence[str], keys: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """The constant scale that puts each close on ``ANCHOR`` at its reference price."""
    missing = [i for i, s in enumerate(symbols) if s not in _BASES]
    if missing:
        anchor = day_index(ANCHOR)
        sub = {k: v[missing] for k, v in p.items()}
        level = np.exp(_log_prices(keys[missing], sub, anchor, anchor)[:, 0])
        bases = (sub["reference"] / level).tolist()
        _BASES.update(zip([symbols[i] for i in missing], bases, strict=True))
    return np.array([_BASES[s] for s in symbols])


def _bars(symbols: Sequence[str], first: int, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Bars of ``symbols`` on the consecutive trading days from index ``first``."""
    last = first + len(stamps) - 1
    keys = np.array([_key(s) for s in symbols], dtype=np.uint64)
    p = _traits(symbols)
    lp = _log_prices(keys, p, max(first - 1, 0), last)
    prev = lp[:, :-1] if first > 0 else np.hstack([np.zeros((len(symbols), 1)), lp[:, :-1]])
    cur = lp[:, 1:] if first > 0 else lp
    n = np.arange(first, last + 1)
    vol, base = p["vol"][:, None], _base_prices(symbols, keys, p)[:, None]
    ret = cur - prev
    gap = p["gap_share"][:, None] * ret + 0.002 * _normal(keys, _GAP, n)
    open_, close = base * np.exp(prev) * np.exp(gap), base * np.exp(cur)
    high = np.maximum(open_, close) * np.exp(0.5 * vol * np.abs(_normal(keys, _HIGH, n)))
    low = np.minimum(open_, close) * np.exp(-0.5 * vol * np.abs(_normal(keys, _LOW, n)))
    swing = 0.35 * _normal(keys, _VOLUME, n) + 8.0 * np.abs(ret)
    volume = np.round(p["volume0"][:, None] * np.exp(swing)).astype("int64")
    open_, close = np.round(open_, 2), np.round(close, 2)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.minimum(np.round(low, 2), np.minimum(open_, close))
    columns = {"open": open_, "high": high, "low": low, "close": close, "adj_close": close}
    rows = np.arange(len(symbols))
    return pd.DataFrame(
        {
            "symbol": pd.array(list(symbols), dtype="str").take(np.repeat(rows, len(stamps))),
            "trade_date": np.tile(stamps.values, len(symbols)),
            **{name: values.ravel() for name, values in columns.items()},  # no corporate actions
            "volume": volume.ravel(),
        },
        columns=PRICE_COLUMNS,
    )


def sample_bars(symbols: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Bars of ``symbols`` (in that order) on the trading days in [start, end] from the
    epoch on, at a cost proportional to the symbols × days asked for."""
    days = trading_days(max(start, EPOCH), end)
    if not days or not symbols:
        return empty_prices()
    first, stamps = day_index(days[0]), pd.to_datetime(days)
    chunk = max(1, ROWS_PER_CHUNK // (len(days) + 1))
    frames = [_bars(symbols[i : i + chunk], first, stamps) for i in range(0, len(symbols), chunk)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def synthetic_bars(symbol: str, end: dt.date) -> pd.DataFrame:
    """The full series of ``symbol`` from the epoch through ``end``."""
    return sample_bars([symbol], EPOCH, end)


def closes_before(symbols: Sequence[str], day: dt.date) -> dict[str, float]:
    """Each symbol's close on the last trading day before ``day`` (none before the epoch)."""
    days = trading_days(max(day - dt.timedelta(days=10), EPOCH), day - dt.timedelta(days=1))
    if not days:
        return {}
    bars = sample_bars(list(symbols), days[-1], days[-1])
    return dict(zip(bars["symbol"], bars["close"].tolist(), strict=True))
