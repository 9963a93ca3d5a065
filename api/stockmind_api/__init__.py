"""StockMind's REST API: a Flask application factory over the warehouse marts.

One layout per feature (``market``, ``predictions``, ``auth``, ``portfolio``,
``analytics``, ``health``, ``realtime``): a subpackage with ``views`` (routes),
``schemas`` (wire shapes) and ``queries`` (parameterized SQL over the marts and the
``app`` schema). Cross-cutting parts sit beside them, one module each: ``config``,
``database`` (the pool), ``errors`` (the JSON envelope), ``parsing`` (strict JSON
bodies), ``schemas`` (shared building blocks), ``precision``, ``security``,
``ratelimit``, ``metrics``, ``access_log``, ``cors``, ``response_cache``, ``docs_assets``,
``server`` (the gunicorn worker class).

Reads tables through ``stockmind`` (the core); never imports the ML code or the local
platform (tests/test_layers.py).
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from stockmind_api.access_log import init_access_log
from stockmind_api.config import Config
from stockmind_api.cors import init_cors
from stockmind_api.database import init_database
from stockmind_api.docs_assets import init_docs_assets
from stockmind_api.errors import register_error_handlers
from stockmind_api.metrics import init_metrics
from stockmind_api.ratelimit import init_ratelimit
from stockmind_api.realtime.views import init_websocket
from stockmind_api.response_cache import init_response_cache
from stockmind_api.schemas import ErrorSchema
from stockmind_api.security import init_security
from stockmind_api.web.views import init_web


class EnvelopeApi(Api):
    """flask-smorest documenting our error envelope instead of its own error shape."""

    ERROR_SCHEMA = ErrorSchema


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__)
    app.config.from_object(config)
    app.json.sort_keys = False
    init_database(app)
    if config.PROXY_HOPS:  # client addresses (rate limits, caps) from trusted proxies only
        hops = config.PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    api = EnvelopeApi(app)
    register_error_handlers(app)  # after Api(): replaces flask-smorest's error format
    init_security(app)
    init_access_log(app)
    init_cors(app)
    init_metrics(app)
    init_ratelimit(app)
    init_docs_assets(app)
    from stockmind_api.analytics.views import blp as analytics_blp
    from stockmind_api.auth.views import blp as auth_blp
    from stockmind_api.health.views import blp as health_blp
    from stockmind_api.market.views import blp as market_blp
    from stockmind_api.news.views import blp as news_blp
    from stockmind_api.portfolio.views import blp as portfolio_blp
    from stockmind_api.predictions.views import blp as predictions_blp

    for blueprint in (
        health_blp,
        auth_blp,
        market_blp,
        predictions_blp,
        news_blp,
        portfolio_blp,
        analytics_blp,
    ):
        api.register_blueprint(blueprint)
    init_websocket(app)
    init_response_cache(app)  # dropped by the build events its process's hub hears
    init_web(app)
    return app
