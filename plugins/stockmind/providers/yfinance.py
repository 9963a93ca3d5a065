"""Yahoo Finance through the real ``yfinance`` client (source ``yfinance``).

* One batched ``yf.download`` per symbol batch (threads on), ``auto_adjust=False`` so
  both the raw close and the adjusted close are stored (yfinance ≥ 0.2.51 silently
  adjusts OHLC by default and drops ``Adj Close``).
* The (Price, Ticker) MultiIndex frame is stacked to one row per symbol and day; the
  all-NaN rows yfinance adds when it aligns tickers on a shared date index are not data
  and are dropped, partial rows go on to validation.
* yfinance reports per-ticker failures only through its logger; they are captured and
  returned per symbol, so one delisted ticker never fails the batch.
* Rate limits (HTTP 429, ``YFRateLimitError``) are retried with exponential backoff and
  jitter; symbols still limited after the last try are returned as *transient* errors.
* Daily bars are dated in the exchange's time zone (tz-aware indexes are converted
  before the date is taken).
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Sequence

import pandas as pd

from stockmind.providers.base import FetchResult, SymbolProfile, empty_prices, empty_quotes
from stockmind.providers.yfinance_frames import frame_from_download, quotes_from_download

log = logging.getLogger(__name__)

RATE_LIMIT_MARKERS = ("ratelimit", "too many requests", "429")


def is_rate_limit(message: str | BaseException) -> bool:
    text = f"{type(message).__name__} {message}".lower()
    return any(marker in text for marker in RATE_LIMIT_MARKERS)


class _ErrorCapture(logging.Handler):
    """Collects yfinance's ``['T1', 'T2']: <error>`` log lines into {ticker: error}."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith("[") or "]: " not in message:
            return
        head, error = message.split("]: ", 1)
        try:
            tickers = ast.literal_eval(head + "]")
        except (ValueError, SyntaxError):
            return
        for ticker in tickers:
            self.errors[str(ticker).upper()] = error.strip()


def backoff_delay(attempt: int, base: float, cap: float = 60.0) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(cap, base * 2**attempt))


class YFinanceProvider:
    name = "yfinance"

    def __init__(
        self,
        download: Callable[..., pd.DataFrame] | None = None,
        ticker: Callable[[str], object] | None = None,
        max_retries: int = 4,
        backoff_base: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        exchange_tz: str = "America/New_York",
        timeout: float = 20.0,
    ):
        self._download = download
        self._ticker = ticker
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.sleep = sleep
        self.exchange_tz = exchange_tz
        self.timeout = timeout

    def _client_download(self) -> Callable[..., pd.DataFrame]:
        if self._download is None:
            import yfinance

            self._download = yfinance.download
        return self._download

    def _batch_download(self, symbols: list[str], **window) -> tuple[pd.DataFrame, dict[str, str]]:
        """One batched ``yf.download`` (raw and adjusted closes, tickers as a column
        level) and the per-ticker errors yfinance only logs."""
        capture = _ErrorCapture()
        yf_log = logging.getLogger("yfinance")
        yf_log.addHandler(capture)
        try:
            data = self._client_download()(
                tickers=symbols,
                auto_adjust=False,
                actions=False,
                group_by="column",
                threads=True,
                progress=False,
                multi_level_index=True,
                timeout=self.timeout,
                **window,
            )
        finally:
            yf_log.removeHandler(capture)
        return data, capture.errors

    def _download_once(
        self, symbols: list[str], start: dt.date, end: dt.date
    ) -> tuple[pd.DataFrame, dict[str, str]]:
        data, errors = self._batch_download(
            symbols,
            start=start.isoformat(),
            end=(end + dt.timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
            interval="1d",
        )
        return frame_from_download(data, symbols, self.exchange_tz), errors

    def fetch_daily(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> FetchResult:
        pending = [s.upper() for s in symbols]
        frames: list[pd.DataFrame] = []
        errors: dict[str, str] = {}
        for attempt in range(self.max_retries + 1):
            try:
                frame, logged = self._download_once(pending, start, end)
            except Exception as exc:
                if not is_rate_limit(exc):
                    raise
                logged, frame = {s: repr(exc) for s in pending}, empty_prices()
            got = set(frame["symbol"])
            frames.append(frame)
            limited = [s for s in pending if s not in got and is_rate_limit(logged.get(s, ""))]
            for s in pending:
                if s not in got and s not in limited:
                    errors[s] = logged.get(s, "no data returned (possibly delisted)")
            if not limited:
                return FetchResult(pd.concat(frames, ignore_index=True), errors)
            if attempt < self.max_retries:
                delay = backoff_delay(attempt, self.backoff_base)
                log.warning("rate limited on %d symbols; retry in %.1fs", len(limited), delay)
                self.sleep(delay)
            pending = limited
        transient = {s: f"rate limited after {self.max_retries} retries" for s in pending}
        return FetchResult(
            pd.concat(frames, ignore_index=True), {**errors, **transient}, transient=set(transient)
        )

    def fetch_quotes(self, symbols: Sequence[str], at: dt.datetime) -> FetchResult:
        """Today's minute bars in one batched call; the last bar ≤ ``at`` per symbol.
        No retries: the next minute's poll is the retry (rate limits are transient)."""
        pending = [s.upper() for s in symbols]
        try:
            data, logged = self._batch_download(pending, period="1d", interval="1m", prepost=False)
        except Exception as exc:
            if not is_rate_limit(exc):
                raise
            errors = {s: f"rate limited: {exc!r}" for s in pending}
            return FetchResult(empty_quotes(), errors, transient=set(errors))
        frame = quotes_from_download(data, pending, at)
        got = set(frame["symbol"])
        errors = {s: logged.get(s, "no quote returned") for s in pending if s not in got}
        transient = {s for s, e in errors.items() if is_rate_limit(e)}
        return FetchResult(frame, errors, transient=transient)

    def fetch_profiles(self, symbols: Sequence[str]) -> list[SymbolProfile]:
        if self._ticker is None:
            import yfinance

            self._ticker = yfinance.Ticker
        profiles = []
        for symbol in symbols:
            try:
                info = self._ticker(symbol).info or {}
            except Exception as exc:  # one bad symbol must not sink the refresh
                log.warning("profile for %s failed: %r", symbol, exc)
                continue
            cap = info.get("marketCap")
            profiles.append(
                SymbolProfile(
                    symbol=symbol,
                    name=info.get("longName") or info.get("shortName"),
                    sector=info.get("sector"),
                    industry=info.get("industry"),
                    exchange=info.get("exchange"),
                    currency=info.get("currency"),
                    market_cap=int(cap) if cap else None,
                )
            )
        return profiles
