"""Routes of the page: ``/`` and its assets (outside the OpenAPI document: not API).

The chart library is served from the npm install at the version the lock pins; its
Apache 2.0 licence asks for TradingView's attribution on the page (the chart's logo, and
the footer's link) and for its notice, served at ``/web/vendor/NOTICE``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory
from stockmind.settings import get_settings

STATIC = Path(__file__).resolve().parent / "static"
CHARTS = "lightweight-charts/dist/lightweight-charts.standalone.production.js"
NOTICE = "TradingView Lightweight Charts\nCopyright (c) 2023 TradingView, Inc. https://www.tradingview.com/\n"

web = Blueprint("web", __name__)


def vendor_dir() -> Path:
    """The npm install's folder (``STOCKMIND_ROOT/node_modules``)."""
    return get_settings().root / "node_modules"


@web.route("/")
def page():
    return send_from_directory(STATIC, "index.html", max_age=0)


@web.route("/web/<path:name>")
def asset(name: str):
    return send_from_directory(STATIC, name, max_age=300)


@web.route("/web/vendor/lightweight-charts.js")
def charts():
    folder = vendor_dir()
    if not (folder / CHARTS).exists():
        abort(503, description="chart library not installed: run make install (npm ci)")
    return send_from_directory(folder, CHARTS, max_age=86400, mimetype="text/javascript")


@web.route("/web/vendor/NOTICE")
def notice():
    return NOTICE, 200, {"Content-Type": "text/plain; charset=utf-8"}


def init_web(app: Flask) -> None:
    app.register_blueprint(web)
