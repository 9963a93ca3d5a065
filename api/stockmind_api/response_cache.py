"""Responses that change only when dbt builds the marts: cached per process, dropped by
the build's event, validated by clients with a strong ``ETag``.

Which: the scanner (movers, unusual volume, breakouts, the market overview) and the
symbol list read dbt's *tables* only, so between two builds the same query gets the same
bytes. ``/stock`` is not cached: its bars are a view over the loaded prices themselves
(the raw layer), which change when prices load, before dbt runs.

Invalidation (every worker, no extra round trip per request): the transform pipeline
NOTIFYs ``indicator_update`` on ``stockmind_events`` once dbt has committed
(``stockmind.pipelines.transform_market``); each worker's hub (``realtime.hub``,
one LISTEN connection per process) hears it and bumps this process's *generation*,
which empties the cache. Guards:

* nothing is served from the cache unless the listener is up; it is started by the first
  cacheable request (not under the test client), and its (re)connection bumps the
  generation too (notifications sent while it was down are lost);
* an entry is stored only if no event came between the start of its read and its
  store (a read of the old marts racing the build never outlives the event);
* every entry expires after ``RESPONSE_CACHE_SECONDS`` (60): a build that announced
  nothing (``stockmind dbt build`` by hand, a build that failed after its models) is
  seen within a minute.

HTTP: a strong ``ETag`` (a hash of the body, so a rebuild that changed nothing keeps it)
and ``If-None-Match`` → ``304`` with no body; ``Cache-Control: public, max-age=60``
(``RESPONSE_MAX_AGE``). Why a minute: the data changes once a period (a trading day),
but at a time set by the pipeline (17:30 New York plus the build, later for late or
backfilled loads), never by the clock, so no expiry can be aimed at the change. A
minute bounds how long a browser or proxy shows the previous scan after a build, and a
dashboard polling every few seconds is answered from its own cache; after that, its
revalidation is a 304. ``Vary: Origin``: the CORS headers depend on the caller's page.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

from flask import Flask, Response, current_app, request
from stockmind import events

MAX_PARSED = 4096  # requests as sent remembered with their key (any caller can vary them)
#: the notifications that mean "the marts were rebuilt"
BUILD_EVENTS = frozenset({events.INDICATOR_UPDATE})
#: the OpenAPI description of a cached response's headers (``blp.response(headers=…)``)
CACHE_HEADERS = {
    "ETag": {
        "description": "Strong validator of the body: send it back in If-None-Match "
        "to get a 304 while the data is unchanged",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "public, max-age=60: the data changes when the marts are rebuilt",
        "schema": {"type": "string"},
    },
}


class Entry(NamedTuple):
    body: bytes
    etag: str  # quoted, strong
    expires: float  # time.monotonic()


class ResponseCache:
    """This process's cached bodies, keyed by endpoint and parsed arguments; at most
    ``max_entries`` (the oldest goes first)."""

    def __init__(self, seconds: float, max_entries: int = 512):
        self.seconds, self.max_entries = seconds, max_entries
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.parsed: dict[tuple, tuple] = {}  # a request as sent -> its key (see hit)
        self._lock = threading.Lock()
        self.generation = 0
        self.listening = False
        self.start_listener: Callable[[], None] = lambda: None

    def heard(self, kind: str | None, listening: bool) -> None:
        """A hub watcher: a build event, or the listener coming up or going down."""
        if kind is None or kind in BUILD_EVENTS:
            self.clear(listening)

    def clear(self, listening: bool | None = None) -> None:
        """Forget every entry: the next request of each key reads the database."""
        with self._lock:
            self.generation += 1
            self._entries.clear()
            if listening is not None:
                self.listening = listening

    def get(self, key: tuple) -> Entry | None:
        if not self.listening:
            self.start_listener()
            return None
        entry = self._entries.get(key)
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def put(self, key: tuple, generation: int, body: bytes) -> Entry:
        """Keep ``body`` (read since ``generation``) unless an event came meanwhile."""
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        entry = Entry(body, f'"{digest}"', time.monotonic() + self.seconds)
        with self._lock:
            if self.listening and generation == self.generation:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return entry


def init_response_cache(app: Flask) -> None:
    cache = ResponseCache(app.config["RESPONSE_CACHE_SECONDS"])
    hub = app.extensions["hub"]
    hub.watch(cache.heard)
    # under the test client (app.testing) nothing starts the listener: a test that wants
    # the cache starts the hub itself (a daemon thread per test app would otherwise keep
    # reconnecting to the test's dropped database)
    cache.start_listener = lambda: None if app.testing else hub.start()
    app.extensions["response_cache"] = cache

    @app.before_request  # after the rate limit and the access log's start (registered first)
    def hit() -> Response | None:
        """A request seen before, as sent, answered before its arguments are parsed again
        (webargs and flask-smorest cost more than the rest of a hit): its key was
        recorded by ``cached`` when it was parsed. The after_request hooks still run."""
        if request.method not in ("GET", "HEAD") or not cache.listening:
            return None
        key = cache.parsed.get(_as_sent())
        entry = cache.get(key) if key else None
        return _answer(entry) if entry else None


def _as_sent() -> tuple:
    return request.endpoint, request.query_string, _frozen(request.view_args or {})


def _frozen(values: dict) -> tuple:
    return tuple(sorted(values.items()))


def cached(view: Callable) -> Callable:
    """Serve a view from the response cache, with ``ETag``/``If-None-Match`` and
    ``Cache-Control``; put it under ``blp.arguments`` (the key is the parsed query, so
    ``?timeframe=daily`` and no query share one entry) and over ``blp.response``. Only
    200s are kept. For endpoints whose arguments parse the same way any day (``hit``
    skips parsing a request seen before; no "not after today" rule)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        cache: ResponseCache = current_app.extensions["response_cache"]
        key = (request.endpoint, *(_frozen(a) for a in args if isinstance(a, dict)),
               _frozen(kwargs))  # fmt: skip
        if len(cache.parsed) < MAX_PARSED:  # parsing is a function of the request as sent
            cache.parsed[_as_sent()] = key
        entry = cache.get(key)
        if entry is None:
            generation = cache.generation  # before the read: see ResponseCache.put
            response = view(*args, **kwargs)
            if response.status_code != 200 or response.is_streamed:
                return response
            entry = cache.put(key, generation, response.get_data())
        return _answer(entry)

    return wrapper


def _answer(entry: Entry) -> Response:
    """The entry, or a 304 when the caller has it already (``If-None-Match``, compared
    weakly as RFC 9110 asks)."""
    response_type = current_app.response_class
    if request.if_none_match.contains_weak(entry.etag.strip('"')):
        response = response_type(status=304)
    else:
        response = response_type(entry.body, mimetype="application/json")
    headers = response.headers
    headers["ETag"] = entry.etag
    headers["Cache-Control"] = f"public, max-age={current_app.config['RESPONSE_MAX_AGE']}"
    headers["Vary"] = "Origin"
    return response
