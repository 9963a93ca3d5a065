"""Rate limits: one budget per *verified* caller, shared by every worker and restart.

* Who: a user proven by a valid API key or a live access token gets their subscription
  tier's budget (``RATE_LIMIT_TIERS``); anyone else — including a caller with a junk key
  or token — shares the budget of their address (``RATE_LIMIT_ANON``). An unverified
  identity can never buy a fresh budget.
* Where: counters live in ``RATE_LIMIT_STORAGE`` — Redis under ``make up`` and compose,
  so two workers (or a restart) see one count; memory only for tests. If Redis stops
  answering, each process falls back to its own counts rather than failing requests.
* The sign-in endpoints have budgets of their own (``RATE_LIMIT_AUTH``), per address and
  per account, and failed logins lock the account for the rest of a window after five
  (``throttle``/``count_login_failure``): password guessing gets 429, not more guesses.
* Exempt: CORS preflights, ``/api/health`` (monitors), ``/metrics``, Swagger UI's static
  files and WebSocket handshakes (capped by concurrent connections per address and user
  instead).
* A 429 says when to come back: ``Retry-After`` and ``data.retryAfter`` (seconds);
  ``Retry-After`` is sent on 429s only.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, current_app, g, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from stockmind_api.errors import error_body
from stockmind_api.ratelimit_storage import storage_uri
from stockmind_api.security import verified_caller

log = logging.getLogger("stockmind_api.ratelimit")
# monitors; scrapers; WebSocket handshakes (capped per address and user instead: a page
# that reconnects must not spend its request budget)
EXEMPT_ENDPOINTS = {"health.health", "metrics", "market_socket", "docs_assets", "web.page",
                    "web.asset", "web.charts", "web.notice", "web.licence"}  # fmt: skip
_fallback = FixedWindowRateLimiter(MemoryStorage())  # when the shared storage is down


class Throttled(TooManyRequests):
    """A 429 of our own counters, carrying when to retry."""

    def __init__(self, message: str, retry_after: float, limit: RateLimitItem):
        super().__init__(message)
        self.seconds = max(1, math.ceil(retry_after))
        self.limit = str(limit)


def client_address() -> str:
    return get_remote_address() or "unknown"


def caller_key() -> str:
    user = verified_caller()
    return f"user:{user['id']}" if user else f"ip:{client_address()}"


def too_many(message: str, seconds: int, limit: str) -> Response:
    """The 429 envelope: when to come back, in the body and in ``Retry-After``."""
    body = error_body(429, message)
    body["data"] = {"retryAfter": seconds, "limit": limit}
    response = jsonify(body)
    response.status_code = 429
    g.retry_after = seconds  # the header must say what the body says (see below)
    return response


def init_ratelimit(app: Flask) -> Limiter:
    config = app.config

    @app.after_request  # registered before the limiter's own hook, so it runs after it
    def retry_after_on_429_only(response: Response) -> Response:
        if "retry_after" in g:
            response.headers["Retry-After"] = str(g.retry_after)
        elif response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    def limit_for_caller() -> str:
        user = verified_caller()
        if user is None:
            return config["RATE_LIMIT_ANON"]
        tiers = config["RATE_LIMIT_TIERS"]
        return tiers.get(user["subscription_tier"], tiers["basic"])

    limiter = Limiter(
        key_func=caller_key,
        app=app,
        application_limits=[limit_for_caller],  # one budget across all routes
        storage_uri=storage_uri(config["RATE_LIMIT_STORAGE"]),  # Redis: one trip a request
        storage_options={"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        in_memory_fallback_enabled=True,
        headers_enabled=True,
        enabled=config["RATE_LIMIT_ENABLED"],
        key_prefix="stockmind",
    )

    @limiter.request_filter
    def exempt() -> bool:
        return request.method == "OPTIONS" or request.endpoint in EXEMPT_ENDPOINTS

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded):
        current = limiter.current_limit
        seconds = max(1, math.ceil(current.reset_at - time.time())) if current else 60
        limit = str(exc.limit.limit) if getattr(exc, "limit", None) else exc.description
        return too_many(f"rate limit exceeded ({limit}); retry in {seconds} s", seconds, limit)

    @app.errorhandler(Throttled)
    def throttled(exc: Throttled):
        return too_many(f"{exc.description}; retry in {exc.seconds} s", exc.seconds, exc.limit)

    app.extensions["rate_limiter"] = limiter
    return limiter


# -- the sign-in endpoints' own budgets ---------------------------------------------------
def _strategy():
    limiter: Limiter = current_app.extensions["rate_limiter"]
    return limiter.limiter


def _items(scope: str, per: str) -> list[RateLimitItem]:
    return parse_many(current_app.config["RATE_LIMIT_AUTH"][(scope, per)])


def _enabled() -> bool:
    return bool(current_app.config["RATE_LIMIT_ENABLED"])


def _call(method: str, *args):
    """A counter operation on the shared storage, or this process's if it is down."""
    try:
        return getattr(_strategy(), method)(*args)
    except Exception as exc:
        log.warning("rate-limit storage unavailable (%s); counting in this process", exc)
        return getattr(_fallback, method)(*args)


def throttle(scope: str, account: str | None = None) -> None:
    """Count one attempt at ``scope`` per address (and per account); 429 past a budget."""
    if not _enabled():
        return
    checks = [("ip", client_address())] + ([("account", account)] if account else [])
    for per, who in checks:
        for item in _items(scope, per):
            if not _call("hit", item, "auth", scope, per, who):
                reset, _ = _call("get_window_stats", item, "auth", scope, per, who)
                raise Throttled(f"too many {scope} attempts ({item})", reset - time.time(), item)


def check_login_lock(account: str) -> None:
    """429 while ``account`` has used up its failed-login budget (any address)."""
    if not _enabled():
        return
    for item in _items("login-failure", "account"):
        if not _call("test", item, "auth", "login-failure", account):
            reset, _ = _call("get_window_stats", item, "auth", "login-failure", account)
            raise Throttled(
                f"too many failed logins for this account ({item}): it is locked for now",
                reset - time.time(),
                item,
            )


def count_login_failure(account: str) -> None:
    if _enabled():
        for item in _items("login-failure", "account"):
            _call("hit", item, "auth", "login-failure", account)


def clear_login_failures(account: str) -> None:
    if _enabled():
        for item in _items("login-failure", "account"):
            _call("clear", item, "auth", "login-failure", account)
