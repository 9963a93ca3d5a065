"""``stockmind`` — the project's command line (installed in ``.venv/bin``).

    stockmind up [--backfill-days 30] [--history-years 3] | down | status
    stockmind db up | down | migrate | url | status | retention
    stockmind ingest prices --source sample|csv|yfinance [--path P] [--symbols …]
                            [--start D --end D] [--universe U] [--batch-size N]
    stockmind ingest profiles --source … [--symbols …]
    stockmind ingest quotes --source sample|yfinance [--symbols …] [--at TIME]
                            (one poll cycle, NOTIFY included, whatever the hour)
    stockmind api [--port 8000]              (the REST API, gunicorn, foreground)
    stockmind dbt <dbt arguments …>          (e.g. dbt build --full-refresh)
    stockmind ml train [--as-of D] [--symbols …] [--epochs N] [--quick]
    stockmind ml score [--as-of D] [--alias champion|challenger]
    stockmind ml serve [--alias champion|challenger] [--port 5001]   (MLflow, foreground)
    stockmind airflow <airflow CLI arguments …>

Every command honours DATABASE_URL; without it they use the project-local cluster.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from stockmind.platform import cli_news, cli_pages
from stockmind.settings import PRICE_SOURCES, Settings, get_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a timestamp (ISO 8601): {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def cmd_db(args, settings: Settings) -> int:
    from stockmind import migrate
    from stockmind.db import warehouse_dsn
    from stockmind.platform.postgres_cluster import LocalCluster

    cluster = LocalCluster(settings)
    if args.action == "url":
        print(warehouse_dsn(settings))
    elif args.action == "up":
        if settings.database_url:
            print("DATABASE_URL is set: nothing to start; migrating it")
        else:
            print(f"PostgreSQL running on 127.0.0.1:{cluster.up()} (data: {cluster.data})")
        print(f"schema at revision {migrate.upgrade()}")
    elif args.action == "migrate":
        print(f"schema at revision {migrate.upgrade()}")
    elif args.action == "down":
        print("stopped" if cluster.stop() else "not running")
    elif args.action in ("backup", "restore"):
        from stockmind import backup

        if not args.path:
            raise ValueError(f"stockmind db {args.action} PATH: the dump file is required")
        act = backup.backup if args.action == "backup" else backup.restore
        print(json.dumps(act(Path(args.path), warehouse_dsn(settings))))
    elif args.action == "retention":
        from stockmind.maintenance import apply_retention

        dropped = apply_retention()
        print("dropped: " + (", ".join(dropped) if dropped else "nothing (all within retention)"))
    elif args.action == "status":
        running = cluster.running()
        print(
            f"local cluster: {'running on port ' + str(cluster.port()) if running else 'stopped'}"
        )
        print(
            f"schema revision: {migrate.current() if running or settings.database_url else '-'}"
            f" (head {migrate.head()})"
        )
    return 0


def _symbols(args, settings: Settings, provider) -> list[str]:
    from stockmind.universe import resolve_universe

    if args.symbols:
        return sorted({s.strip().upper() for s in ",".join(args.symbols).split(",") if s.strip()})
    if provider.name == "csv" and not args.universe:
        return provider.symbols()
    return resolve_universe(args.universe or settings.effective_universe())


def cmd_ingest(args, settings: Settings) -> int:
    from stockmind.providers import get_provider

    provider = get_provider(
        args.source or settings.price_source, settings, path=args.path, columns=args.columns
    )
    symbols = _symbols(args, settings, provider)
    if args.what == "profiles":
        from stockmind.profiles import refresh_profiles

        print(json.dumps(refresh_profiles(symbols, provider)))
        return 0
    if args.what == "quotes":
        from stockmind.quotes import poll_quotes

        at = args.at or dt.datetime.now(dt.UTC)
        print(json.dumps(poll_quotes(symbols, provider, at), default=str))
        return 0
    from stockmind.ingest import ingest_prices

    end = args.end or dt.date.today()
    start = args.start or (
        dt.date(1900, 1, 1) if provider.name == "csv" else end - dt.timedelta(days=30)
    )
    if start > end:
        print(f"error: --start {start} is after --end {end}", file=sys.stderr)
        return 2
    print(
        f"ingesting {len(symbols)} symbols from {provider.name}, {start} .. {end}", file=sys.stderr
    )
    summary = ingest_prices(
        symbols, start, end, provider, batch_size=args.batch_size or settings.batch_size
    )
    print(json.dumps(summary))
    return 0


def cmd_airflow(args, settings: Settings) -> int:
    from stockmind.platform.environment import airflow_bin, airflow_env

    argv = [airflow_bin(), *args.airflow_args]
    os.execve(argv[0], argv, airflow_env(settings))
    return 0  # not reached


def cmd_dbt(args, settings: Settings) -> int:
    from stockmind.dbt_runner import dbt_command, dbt_env

    argv = dbt_command(args.dbt_args, settings)
    os.execve(argv[0], argv, dbt_env(settings))
    return 0  # not reached


def cmd_api(args, settings: Settings) -> int:
    from stockmind.db import warehouse_dsn
    from stockmind.platform.processes import api_command

    env = dict(os.environ, DATABASE_URL=warehouse_dsn(settings))
    argv = api_command(f"{args.host}:{args.port}", workers=args.workers, threads=args.threads)
    os.execve(argv[0], argv, env)
    return 0  # not reached


def cmd_users(args, settings: Settings) -> int:
    from stockmind.accounts import set_subscription_tier

    changed = set_subscription_tier(args.email, args.tier)
    print(f"{changed['email']} (id {changed['id']}): {changed['old_tier']} -> {changed['tier']}")
    return 0


def cmd_ml(args, settings: Settings) -> int:
    """``stockmind ml train|score``: the code the DAGs run, against the platform's MLflow."""
    import dataclasses

    from stockmind_ml.tasks import latest_trade_date

    from stockmind.db import warehouse_dsn
    from stockmind.platform.environment import airflow_env

    os.environ.setdefault("MLFLOW_TRACKING_URI", airflow_env(settings)["MLFLOW_TRACKING_URI"])
    if args.action == "serve":
        from stockmind.platform.processes import model_server_command

        argv = model_server_command(args.alias, args.port)
        os.execve(argv[0], argv, airflow_env(settings, dict(os.environ)))
    dsn = warehouse_dsn(settings)
    as_of = args.as_of or latest_trade_date(dsn)
    if as_of is None:
        print("error: no indicators in the warehouse yet (run dbt first)", file=sys.stderr)
        return 2
    if args.action == "train":
        from stockmind_ml.config import ForecastConfig
        from stockmind_ml.train import train_forecaster

        config = ForecastConfig.quick() if args.quick else ForecastConfig()
        if args.epochs:
            config = dataclasses.replace(config, epochs=args.epochs)
        result = train_forecaster(dsn, as_of, config, symbols=args.symbols)
        result["metrics"] = {k: round(v, 6) for k, v in result["metrics"].items() if "h21" in k}
    else:
        from stockmind_ml.predict import score

        result = score(dsn, as_of, alias=args.alias)
    print(json.dumps(result, default=str, indent=1))
    return 0


def cmd_platform(args, settings: Settings) -> int:
    from stockmind.platform import bootstrap

    if args.command == "up":
        bootstrap.up(
            settings,
            backfill_days=args.backfill_days,
            history_years=args.history_years,
            forecasts=not args.no_forecast,
        )
    elif args.command == "down":
        bootstrap.down(settings)
    else:
        states = bootstrap.status(settings)
        width = max(map(len, states)) + 1
        for name, state in states.items():
            print(f"{name:{width}} {state}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockmind", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="set up and start the local platform (make up)")
    up.add_argument(
        "--no-forecast", action="store_true", help="skip training and scoring the forecaster"
    )
    up.add_argument(
        "--backfill-days", type=int, default=30, help="days the Airflow backfill loads (30)"
    )
    up.add_argument(
        "--history-years",
        type=int,
        default=3,
        help="years of sample prices bulk-loaded before the backfill (3; 0 skips it)",
    )
    sub.add_parser("down", help="stop Airflow and the local PostgreSQL (make down)")
    sub.add_parser("status", help="what is running")

    db = sub.add_parser("db", help="the warehouse database")
    db.add_argument(
        "action",
        choices=["up", "down", "migrate", "url", "status", "retention", "backup", "restore"],
    )
    db.add_argument("path", nargs="?", help="backup / restore: the dump file (custom format)")

    ingest = sub.add_parser("ingest", help="ad-hoc loads (the code the DAGs run)")
    ingest.add_argument("what", choices=["prices", "profiles", "quotes"])
    ingest.add_argument("--source", choices=PRICE_SOURCES)
    ingest.add_argument("--path", help="file or folder for --source csv")
    ingest.add_argument(
        "--columns", help="csv column mapping, e.g. trade_date=Day,symbol=Ticker (else by name)"
    )
    ingest.add_argument("--symbols", nargs="+", help="symbols (space or comma separated)")
    ingest.add_argument("--universe", help="sample | sp500 | table | a file of symbols")
    ingest.add_argument("--start", type=_date, help="first trade date (inclusive)")
    ingest.add_argument("--end", type=_date, help="last trade date (inclusive)")
    ingest.add_argument("--batch-size", type=int)
    ingest.add_argument("--at", type=_timestamp, help="quotes: the minute to poll (default now)")

    api = sub.add_parser("api", help="serve the REST API in the foreground (gunicorn)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    api.add_argument("--workers", type=int, help="gunicorn workers (API_WORKERS, default 2)")
    api.add_argument("--threads", type=int, help="threads per worker (API_THREADS, default 64)")

    users = sub.add_parser("users", help="operator actions on API accounts")
    users_sub = users.add_subparsers(dest="action", required=True)
    tier = users_sub.add_parser("set-tier", help="set a subscription tier (it sets rate limits)")
    tier.add_argument("email")
    tier.add_argument("tier", choices=["basic", "premium", "pro"])

    ml = sub.add_parser("ml", help="the forecaster: train, score (MLflow tracked)")
    ml_sub = ml.add_subparsers(dest="action", required=True)
    train = ml_sub.add_parser("train", help="train, evaluate, register (alias challenger)")
    train.add_argument("--as-of", type=_date, help="last date of data used (default: latest)")
    train.add_argument("--symbols", nargs="+", help="symbols (default: every one in the marts)")
    train.add_argument("--epochs", type=int, help="at most this many epochs")
    train.add_argument("--quick", action="store_true", help="the small configuration (~1 min)")
    scorer = ml_sub.add_parser("score", help="forecast every symbol into ml.predictions")
    scorer.add_argument("--as-of", type=_date, help="forecast from this date (default: latest)")
    scorer.add_argument("--alias", choices=["champion", "challenger"], default="champion")
    serve = ml_sub.add_parser("serve", help="mlflow models serve the forecaster (foreground)")
    serve.add_argument("--alias", choices=["champion", "challenger"], default="champion")
    serve.add_argument("--port", type=int, default=5001)

    dbt = sub.add_parser("dbt", help="dbt with the project's profile (e.g. dbt build)")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)

    af = sub.add_parser("airflow", help="the Airflow CLI with the project's settings")
    af.add_argument("airflow_args", nargs=argparse.REMAINDER)
    cli_news.add_parsers(sub)
    cli_pages.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        handlers = {"db": cmd_db, "ingest": cmd_ingest, "airflow": cmd_airflow, "dbt": cmd_dbt}
        handlers |= {"api": cmd_api, "users": cmd_users, "ml": cmd_ml} | cli_news.handlers()
        handlers |= cli_pages.handlers()
        handler = handlers.get(args.command, cmd_platform)
        return handler(args, settings)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
