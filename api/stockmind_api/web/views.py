"""Routes of the page: ``/`` and its assets (outside the OpenAPI document: not API).

The chart library is served from the npm install at the version the lock pins; its
Apache 2.0 licence asks for TradingView's attribution on the page (the chart's logo, and
the footer's link) and for its notice, served at ``/web/vendor/NOTICE``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory
from stockmind.settings import get_settings

STATIC = Path(__file__).resolve().parent / "static"
CHARTS = "lightweight-charts/dist/lightweight-charts.standalone.production.js"
NOTICE = "TradingView Lightweight Charts\nCopyright (c) 2023 TradingView, Inc. https://www.tradingview.com/\n"
#: the page talks to its own origin only; no frames (a login form lives here)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

web = Blueprint("web", __name__)


@web.after_request
def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def vendor_dir() -> Path:
    """The npm install's folder (``STOCKMIND_ROOT/node_modules``)."""
    return get_settings().root / "node_modules"


@web.route("/")
def page():
    return send_from_directory(STATIC, "index.html", max_age=0)


@web.route("/web/<path:name>")
def asset(name: str):
    return send_from_directory(STATIC, name, max_age=0)  # revalidated (ETag): no stale script


@web.route("/web/vendor/lightweight-charts.js")
def charts():
    folder = vendor_dir()
    if not (folder / CHARTS).exists():  # a script the page can run: it says what to do
        message = "chart library not installed: run make install (npm ci)"
        return f"console.error({message!r});", 503, {"Content-Type": "text/javascript"}
    return send_from_directory(folder, CHARTS, max_age=86400, mimetype="text/javascript")


@web.route("/web/vendor/LICENSE")
def licence():
    return send_from_directory(vendor_dir(), "lightweight-charts/LICENSE", mimetype="text/plain")


@web.route("/web/vendor/NOTICE")
def notice():
    return NOTICE, 200, {"Content-Type": "text/plain; charset=utf-8"}


def init_web(app: Flask) -> None:
    app.register_blueprint(web)
