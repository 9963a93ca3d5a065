"""CORS: browsers may call the API (and open ``/ws/market``) only from the origins in
``API_CORS_ORIGINS`` (default: the API's own), never a reflection of whatever ``Origin``
a caller sends. The WebSocket route checks the same list itself (``realtime.views``).

flask-cors decides every answer. What it adds to a simple (non-preflight) request's
response depends only on the path's resource, the ``Origin`` and the private-network
request header, yet it re-derived it on every response (~20 µs, a tenth of a request's
time in Flask, measured: docs/benchmarks.md). :class:`Replay` asks flask-cors once per
such pair and adds the same headers after that; preflights (``OPTIONS``) always go to
flask-cors.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from urllib.parse import unquote

from flask import Flask, Response, request
from flask_cors import CORS

API_PATHS = r"/api/*"  # flask-cors matches a resource with re.match: every /api… path
_API_PATHS = re.compile(API_PATHS)
MAX_REMEMBERED = 256  # distinct Origin values kept (any caller can send a new one)


class Replay:
    """flask-cors's ``after_request`` function, its answers remembered per Origin."""

    def __init__(self, decide: Callable[[Response], Response]):
        self.decide = decide
        self.added: dict[tuple, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, response: Response) -> Response:
        if request.method == "OPTIONS" or hasattr(response, "_FLASK_CORS_EVALUATED"):
            return self.decide(response)
        headers = response.headers
        if headers.get("Access-Control-Allow-Origin"):  # flask-cors: evaluated already
            return response
        if not _API_PATHS.match(unquote(request.path)):
            return response
        key = (
            request.headers.get("Origin"),
            request.headers.get("Access-Control-Request-Private-Network"),
        )
        added = self.added.get(key)
        if added is None:
            before = len(headers)
            response = self.decide(response)
            added = list(response.headers)[before:]  # flask-cors only appends
            with self._lock:
                if len(self.added) < MAX_REMEMBERED:
                    self.added[key] = added
            return response
        for name, value in added:
            headers.add(name, value)
        return response


def init_cors(app: Flask) -> None:
    CORS(
        app,
        resources={API_PATHS: {"origins": app.config["CORS_ORIGINS"]}},
        expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Remaining"],
    )
    hooks = app.after_request_funcs[None]
    (decide,) = [hook for hook in hooks if hook.__name__ == "cors_after_request"]
    replay = Replay(decide)
    hooks[hooks.index(decide)] = replay
    # flask-cors also runs the same function over error responses by wrapping the app's
    # exception handlers (the 404s, the 422s): the same wrapping, with the replay
    for name in ("handle_exception", "handle_user_exception"):
        if getattr(getattr(app, name), "__name__", "") == "wrapped_function":
            setattr(app, name, _with_cors(getattr(type(app), name).__get__(app), app, replay))


def _with_cors(handler: Callable, app: Flask, replay: Replay) -> Callable:
    def wrapped_function(*args, **kwargs):
        return replay(app.make_response(handler(*args, **kwargs)))

    return wrapped_function
