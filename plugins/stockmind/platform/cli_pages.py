"""``stockmind screenshots [--out DIR]``: every web page of the running platform (the
market page, Swagger UI, Airflow, MLflow, dbt docs) checked in a real browser and
captured — how the README's images (``docs/images``) are made."""

from __future__ import annotations

from pathlib import Path

from stockmind.settings import Settings


def add_parsers(sub) -> None:
    shots = sub.add_parser(
        "screenshots", help="every web page in a real browser (chromium), checked and captured"
    )
    shots.add_argument("--out", type=Path, default=Path("docs/images"), help="(docs/images)")


def cmd_screenshots(args, settings: Settings) -> int:
    from stockmind.platform.browser_tour import platform_urls, run_tour
    from stockmind.platform.environment import ADMIN_USER, admin_password

    tour = run_tour(platform_urls(settings), ADMIN_USER, admin_password(settings), args.out)
    for name, path in sorted(tour.shots.items()):
        print(f"{name:20} {path}")
    return 0


def handlers() -> dict:
    return {"screenshots": cmd_screenshots}
