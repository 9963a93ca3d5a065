"""API configuration from the environment (one class; tests subclass it)."""

from __future__ import annotations

import datetime as dt
import os

from stockmind.db import warehouse_dsn
from stockmind.settings import get_settings

from stockmind_api.docs_assets import ASSETS_URL


class Config:
    """Read once at app creation. Every value has an environment variable."""

    API_TITLE = "StockMind API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = ASSETS_URL  # from an installed package, never a CDN
    JSON_SORT_KEYS = False

    def __init__(self) -> None:
        self.DATABASE_URL = warehouse_dsn()
        self.API_PORT = int(os.environ.get("API_PORT", "8000"))
        self.DB_POOL_MAX = int(os.environ.get("API_DB_POOL_MAX", "16"))
        self.PAGE_SIZE_DEFAULT = 100
        self.PAGE_SIZE_MAX = 1000
        # request bodies past this are refused with 413 (the largest real body is ~2 KB)
        self.MAX_CONTENT_LENGTH = int(os.environ.get("API_MAX_BODY_BYTES", str(64 * 1024)))
        # one secret for every worker: from the environment, else kept in the local state
        self.JWT_SECRET_KEY = os.environ.get("API_JWT_SECRET") or get_settings().secret(
            "api_jwt_secret"
        )
        self.JWT_ACCESS_TOKEN_EXPIRES = dt.timedelta(
            seconds=int(os.environ.get("API_ACCESS_TOKEN_SECONDS", str(15 * 60)))
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = dt.timedelta(
            seconds=int(os.environ.get("API_REFRESH_TOKEN_SECONDS", str(7 * 24 * 3600)))
        )
        self.JWT_TOKEN_LOCATION = ["headers"]
        # WebSockets (/ws/market): see realtime/; no socket holds a thread (realtime/reactor.py)
        self.WS_REQUIRE_AUTH = os.environ.get("WS_REQUIRE_AUTH", "false") == "true"
        self.WS_MAX_SUBSCRIPTIONS = int(os.environ.get("WS_MAX_SUBSCRIPTIONS", "100"))
        self.WS_MAX_PER_IP = int(os.environ.get("WS_MAX_PER_IP", "20"))
        self.WS_MAX_PER_USER = int(os.environ.get("WS_MAX_PER_USER", "10"))
        self.WS_MAX_CONNECTIONS = int(os.environ.get("WS_MAX_CONNECTIONS", "10000"))
        self.WS_SESSION_THREADS = int(os.environ.get("WS_SESSION_THREADS", "4"))
        self.WS_QUEUE_SIZE = int(os.environ.get("WS_QUEUE_SIZE", "256"))
        self.WS_IDLE_SECONDS = float(os.environ.get("WS_IDLE_SECONDS", "60"))
        self.WS_PING_SECONDS = float(os.environ.get("WS_PING_SECONDS", "20"))
        self.WS_SEND_BUFFER_BYTES = int(os.environ.get("WS_SEND_BUFFER_BYTES", "65536"))
        self.WS_SEND_TIMEOUT_SECONDS = float(os.environ.get("WS_SEND_TIMEOUT_SECONDS", "10"))
        self.ACCESS_LOG = os.environ.get("API_ACCESS_LOG", "true") == "true"
        # responses that change only when dbt builds (scanner, symbols): kept per process
        # until the build's event, at most this long; clients may keep them RESPONSE_MAX_AGE
        # seconds (why these values: response_cache.py)
        self.RESPONSE_CACHE_SECONDS = 60.0
        self.RESPONSE_MAX_AGE = 60
        # rate limits (ratelimit.py): one budget per verified caller, in Redis under make up
        self.RATE_LIMIT_ENABLED = os.environ.get("API_RATE_LIMIT_ENABLED", "true") == "true"
        self.RATE_LIMIT_STORAGE = os.environ.get("API_RATE_LIMIT_STORAGE", "memory://")
        self.RATE_LIMIT_ANON = os.environ.get("API_RATE_LIMIT_ANON", "100/hour")
        self.RATE_LIMIT_TIERS = {  # per subscription tier (set by an operator: stockmind users)
            "basic": os.environ.get("API_RATE_LIMIT_USER", "1000/hour"),
            "premium": os.environ.get("API_RATE_LIMIT_PREMIUM", "5000/hour"),
            "pro": os.environ.get("API_RATE_LIMIT_PRO", "20000/hour"),
        }
        # the sign-in endpoints' own budgets, per client address and per account
        self.RATE_LIMIT_AUTH = {
            ("login", "ip"): os.environ.get("API_LIMIT_LOGIN_IP", "20/minute;200/hour"),
            ("login-failure", "account"): os.environ.get("API_LIMIT_LOGIN_FAILURES", "5/15minutes"),
            ("register", "ip"): os.environ.get("API_LIMIT_REGISTER_IP", "10/minute;50/hour"),
            ("register", "account"): os.environ.get("API_LIMIT_REGISTER_ACCOUNT", "5/hour"),
            ("refresh", "ip"): os.environ.get("API_LIMIT_REFRESH_IP", "30/minute"),
            ("refresh", "account"): os.environ.get("API_LIMIT_REFRESH_ACCOUNT", "60/hour"),
            ("api-key", "ip"): os.environ.get("API_LIMIT_API_KEY_IP", "10/hour"),
            ("api-key", "account"): os.environ.get("API_LIMIT_API_KEY_ACCOUNT", "5/hour"),
        }
        # browsers may call the API (and open /ws/market) only from these origins
        port = self.API_PORT
        own = f"http://127.0.0.1:{port},http://localhost:{port}"
        self.CORS_ORIGINS = os.environ.get("API_CORS_ORIGINS", own).split(",")
        # /metrics: from these addresses, or with "Authorization: Bearer <API_METRICS_TOKEN>"
        self.METRICS_ALLOW = os.environ.get("API_METRICS_ALLOW", "127.0.0.1,::1").split(",")
        self.METRICS_TOKEN = os.environ.get("API_METRICS_TOKEN", "")
        # reverse proxies in front whose X-Forwarded-For is trusted (0: none, the default:
        # a client could otherwise choose its own address, and so its own budget)
        self.PROXY_HOPS = int(os.environ.get("API_PROXY_HOPS", "0"))
        # /api/analytics: the benchmark (unset: the equal-weight universe) and the
        # annual risk-free rate of its Sharpe ratio
        self.BENCHMARK_SYMBOL = os.environ.get("API_BENCHMARK_SYMBOL") or None
        self.RISK_FREE_RATE = float(os.environ.get("API_RISK_FREE_RATE", "0"))


def connection_limits() -> tuple[int, float]:
    """The gunicorn worker's bounds (``server.EnvelopeThreadWorker``, which runs before
    any app exists): open connections per client address and the socket timeout.

    Behind a trusted proxy (``API_PROXY_HOPS``) every connection is the proxy's, so the
    per-address bound is off unless set; its timeouts take over."""
    behind_proxy = int(os.environ.get("API_PROXY_HOPS", "0")) > 0
    default = "1000000" if behind_proxy else "16"
    per_address = int(os.environ.get("API_MAX_CONNECTIONS_PER_IP", default))
    return per_address, float(os.environ.get("API_SOCKET_TIMEOUT_SECONDS", "10"))
