"""StockMind's REST API: a Flask application factory over the warehouse marts.

Reads tables through ``stockmind`` (the core); never imports the ML code.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from stockmind.pool import Pool
from werkzeug.middleware.proxy_fix import ProxyFix

from stockmind_api.config import Config
from stockmind_api.docs_assets import init_docs_assets
from stockmind_api.errors import register_error_handlers
from stockmind_api.operations import init_operations
from stockmind_api.ratelimit import init_ratelimit
from stockmind_api.schemas import ErrorSchema
from stockmind_api.security import init_security
from stockmind_api.ws import init_websocket


class EnvelopeApi(Api):
    """flask-smorest documenting our error envelope instead of its own error shape."""

    ERROR_SCHEMA = ErrorSchema


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__)
    app.config.from_object(config)
    app.json.sort_keys = False
    app.extensions["db"] = Pool(config.DATABASE_URL, maxconn=config.DB_POOL_MAX)
    if config.PROXY_HOPS:  # client addresses (rate limits, caps) from trusted proxies only
        hops = config.PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    api = EnvelopeApi(app)
    register_error_handlers(app)  # after Api(): replaces flask-smorest's error format
    init_security(app)
    init_operations(app)
    init_ratelimit(app)
    init_docs_assets(app)
    from stockmind_api.analytics import blp as analytics_blp
    from stockmind_api.auth import blp as auth_blp
    from stockmind_api.health import blp as health_blp
    from stockmind_api.market import blp as market_blp
    from stockmind_api.portfolio import blp as portfolio_blp

    for blueprint in (health_blp, auth_blp, market_blp, portfolio_blp, analytics_blp):
        api.register_blueprint(blueprint)
    init_websocket(app)
    return app
