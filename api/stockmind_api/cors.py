"""CORS: browsers may call the API (and open ``/ws/market``) only from the origins in
``API_CORS_ORIGINS`` (default: the API's own), never a reflection of whatever ``Origin``
a caller sends. The WebSocket route checks the same list itself (``realtime.views``)."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS


def init_cors(app: Flask) -> None:
    CORS(
        app,
        resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
        expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Remaining"],
    )
