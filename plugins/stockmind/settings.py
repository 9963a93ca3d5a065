"""Settings read from the environment, in one place.

Every entry point (CLI, DAG tasks, API, ML) builds a :class:`Settings` with
:func:`get_settings` so that one variable — ``DATABASE_URL`` above all — moves the whole
platform to another PostgreSQL.  Nothing here opens a connection or imports a framework:
Airflow parses DAG files that import this module, and parsing must stay cheap.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The repository root when the package runs from a checkout (``plugins/stockmind``).
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_ROOT = PACKAGE_DIR.parent.parent

#: Sources a price/profile provider can be chosen from.
PRICE_SOURCES = ("sample", "csv", "yfinance")
NEWS_SOURCES = ("sample", "yfinance", "newsapi")
SENTIMENT_SCORERS = ("auto", "gemini", "local")
EXECUTORS = ("local", "celery")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _env_positive(name: str, default: int) -> int:
    """An integer of at least 1 (a count of sessions: zero would judge nothing)."""
    value = _env_int(name, default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


def _env_keep(name: str, default: int) -> int:
    """A retention (0 keeps forever); negative is a typo, not a wish to delete everything."""
    value = _env_int(name, default)
    if value < 0:
        raise ValueError(f"{name} must be 0 (keep forever) or more, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Platform configuration; field docs name the environment variable."""

    #: STOCKMIND_ROOT — the checkout (dags/, dbt/ …); defaults to the package's parent.
    root: Path = DEFAULT_ROOT
    #: STOCKMIND_HOME — local state: PostgreSQL cluster, AIRFLOW_HOME, logs.
    home: Path = DEFAULT_ROOT / ".local"
    #: DATABASE_URL — the warehouse; unset means the project-local cluster.
    database_url: str | None = None
    #: STOCKMIND_PRICE_SOURCE — sample | csv | yfinance.
    price_source: str = "sample"
    #: STOCKMIND_CSV_PATH — file or folder for the csv source.
    csv_path: str | None = None
    #: STOCKMIND_CSV_COLUMNS — column mapping for csv files, e.g. ``trade_date=Day``.
    csv_columns: str | None = None
    #: STOCKMIND_UNIVERSE — sample | sp500 | table | a path to a file of symbols.
    universe: str | None = None
    #: STOCKMIND_BATCH_SIZE — symbols per mapped task / provider call.
    batch_size: int = 50
    #: STOCKMIND_TIMESCALEDB — auto (use it when available) | on | off.
    timescaledb: str = "auto"
    #: STOCKMIND_EXCHANGE_TZ — the exchange calendar's time zone (trade dates).
    exchange_tz: str = "America/New_York"
    #: STOCKMIND_MARKET_HOURS — nyse (poll quotes only in NYSE sessions) | always (demo);
    #: unset: always for the sample source (so the demo moves), nyse otherwise.
    market_hours: str | None = None
    #: STOCKMIND_PG_PORT — preferred port for the local cluster.
    pg_port: int = 55432
    #: STOCKMIND_NEWS_SOURCE — comma-separated: sample | yfinance | newsapi; unset: sample
    #: for the sample price source, else yfinance (+ newsapi when NEWS_API_KEY is set).
    news_source: str | None = None
    #: STOCKMIND_SENTIMENT_SCORER — auto (Gemini when a key is set, the local model for the
    #: rest) | gemini | local.
    sentiment_scorer: str = "auto"
    #: STOCKMIND_BIND_HOST — the address every local service listens on (make up):
    #: loopback by default; 0.0.0.0 exposes them (then the scheduler's log server runs too).
    bind_host: str = "127.0.0.1"
    #: STOCKMIND_QUARANTINE_DAYS — quarantined rows kept this long (maintain_warehouse).
    quarantine_days: int = 90
    #: STOCKMIND_RETENTION_MINUTE_MONTHS, …_HOURLY_MONTHS, …_DAILY_YEARS — how long each
    #: level is kept (0: forever): minute quotes (whole monthly partitions / chunks),
    #: hourly bars, daily bars. Months and years, as the partitions and policies count.
    retention_minute_months: int = 3
    retention_hourly_months: int = 12
    retention_daily_years: int = 0
    #: STOCKMIND_AIRFLOW_CLEAN_DAYS — Airflow's metadata (task instances, runs, XCom, the
    #: log table, jobs) older than this is purged by ``airflow db clean`` (0: never).
    airflow_clean_days: int = 30
    #: STOCKMIND_STALE_SESSIONS — an active symbol with no bar in this many sessions before
    #: the maintenance run's date is stale (data-quality check ``stale_symbols``).
    stale_sessions: int = 3
    #: STOCKMIND_QUALITY_WINDOW_SESSIONS — the recent sessions ``missing_trading_days`` reads.
    quality_window_sessions: int = 20
    #: STOCKMIND_QUARANTINE_SPIKE_FACTOR, …_FLOOR — a day's quarantined rows are a spike above
    #: this many times the 14-day daily average, and never below the floor (a few bad rows).
    quarantine_spike_factor: float = 3.0
    quarantine_spike_floor: int = 50
    #: STOCKMIND_NEWS_LOOKBACK_HOURS — each news run also reads this far behind its interval
    #: (late listings, outages); stories are stored once, so the overlap costs nothing.
    news_lookback_hours: int = 48
    #: STOCKMIND_EXECUTOR — local (LocalExecutor, the default) | celery (CeleryExecutor:
    #: the local Redis as broker and STOCKMIND_CELERY_WORKERS workers beside the scheduler).
    executor: str = "local"
    #: STOCKMIND_CELERY_WORKERS — how many ``airflow celery worker`` processes (celery only).
    celery_workers: int = 2

    @property
    def pg_dir(self) -> Path:
        return Path(_env("STOCKMIND_PG_DIR") or self.home / "pg")

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    def secret(self, name: str) -> str:
        """A named secret of this checkout (``STOCKMIND_HOME/<name>``, see state_secret)."""
        return state_secret(self.home / name)

    def polls_always(self) -> bool:
        """Whether the quote poll ignores the exchange calendar."""
        mode = self.market_hours or ("always" if self.price_source == "sample" else "nyse")
        if mode not in ("always", "nyse"):
            raise ValueError(f"STOCKMIND_MARKET_HOURS must be nyse or always, not {mode!r}")
        return mode == "always"

    def loopback_only(self) -> bool:
        return self.bind_host in ("127.0.0.1", "localhost", "::1")

    def news_sources(self) -> list[str]:
        """The news sources ingest_news reads, in order (the first to deliver a story wins)."""
        if self.news_source:
            names = [n.strip().lower() for n in self.news_source.split(",") if n.strip()]
        elif self.price_source == "sample":
            names = ["sample"]
        else:
            names = ["yfinance"] + (["newsapi"] if _env("NEWS_API_KEY") else [])
        unknown = sorted(set(names) - set(NEWS_SOURCES))
        if unknown or not names:
            raise ValueError(f"STOCKMIND_NEWS_SOURCE: one or more of {NEWS_SOURCES}, not {unknown}")
        return names

    def effective_universe(self) -> str:
        """The universe to ingest: explicit, else a small list for sample data, else S&P 500."""
        if self.universe:
            return self.universe
        return "sample" if self.price_source == "sample" else "sp500"


def state_secret(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(24)) -> str:
    """A secret kept in a 0600 file under the local state, made on first use, so every
    process of one checkout (API workers, Airflow, Redis) agrees on it without it ever
    appearing in the environment or a log."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def get_settings() -> Settings:
    """Build settings from the current environment (cheap; call it where needed)."""
    root = Path(_env("STOCKMIND_ROOT") or DEFAULT_ROOT).resolve()
    source = (_env("STOCKMIND_PRICE_SOURCE") or "sample").lower()
    if source not in PRICE_SOURCES:
        raise ValueError(f"STOCKMIND_PRICE_SOURCE must be one of {PRICE_SOURCES}, got {source!r}")
    timescale = (_env("STOCKMIND_TIMESCALEDB") or "auto").lower()
    if timescale not in ("auto", "on", "off"):
        raise ValueError(f"STOCKMIND_TIMESCALEDB must be auto, on or off, got {timescale!r}")
    batch = _env_int("STOCKMIND_BATCH_SIZE", 50)
    if batch < 1:
        raise ValueError("STOCKMIND_BATCH_SIZE must be at least 1")
    return Settings(
        root=root,
        home=Path(_env("STOCKMIND_HOME") or root / ".local").resolve(),
        database_url=_env("DATABASE_URL"),
        price_source=source,
        csv_path=_env("STOCKMIND_CSV_PATH"),
        csv_columns=_env("STOCKMIND_CSV_COLUMNS"),
        universe=_env("STOCKMIND_UNIVERSE"),
        batch_size=batch,
        timescaledb=timescale,
        exchange_tz=_env("STOCKMIND_EXCHANGE_TZ") or "America/New_York",
        pg_port=_env_int("STOCKMIND_PG_PORT", 55432),
        market_hours=(_env("STOCKMIND_MARKET_HOURS") or "").lower() or None,
        news_source=_env("STOCKMIND_NEWS_SOURCE"),
        sentiment_scorer=_sentiment_scorer(),
        news_lookback_hours=_env_int("STOCKMIND_NEWS_LOOKBACK_HOURS", 48),
        bind_host=_env("STOCKMIND_BIND_HOST") or "127.0.0.1",
        quarantine_days=_env_int("STOCKMIND_QUARANTINE_DAYS", 90),
        retention_minute_months=_env_keep("STOCKMIND_RETENTION_MINUTE_MONTHS", 3),
        retention_hourly_months=_env_keep("STOCKMIND_RETENTION_HOURLY_MONTHS", 12),
        retention_daily_years=_env_keep("STOCKMIND_RETENTION_DAILY_YEARS", 0),
        airflow_clean_days=_env_keep("STOCKMIND_AIRFLOW_CLEAN_DAYS", 30),
        stale_sessions=_env_positive("STOCKMIND_STALE_SESSIONS", 3),
        quality_window_sessions=_env_positive("STOCKMIND_QUALITY_WINDOW_SESSIONS", 20),
        quarantine_spike_factor=_env_float("STOCKMIND_QUARANTINE_SPIKE_FACTOR", 3.0),
        quarantine_spike_floor=_env_int("STOCKMIND_QUARANTINE_SPIKE_FLOOR", 50),
        executor=_executor(),
        celery_workers=_env_positive("STOCKMIND_CELERY_WORKERS", 2),
    )


def _executor() -> str:
    executor = (_env("STOCKMIND_EXECUTOR") or "local").lower()
    if executor not in EXECUTORS:
        raise ValueError(f"STOCKMIND_EXECUTOR must be one of {EXECUTORS}, got {executor!r}")
    return executor


def _sentiment_scorer() -> str:
    scorer = (_env("STOCKMIND_SENTIMENT_SCORER") or "auto").lower()
    if scorer not in SENTIMENT_SCORERS:
        raise ValueError(f"STOCKMIND_SENTIMENT_SCORER must be one of {SENTIMENT_SCORERS}")
    return scorer
