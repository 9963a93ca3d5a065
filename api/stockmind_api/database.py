"""The app's connection pool: made by the factory, reached only through :func:`db`.

Request code calls ``db()``; code running outside a request (the WebSocket threads)
passes its app: ``db(app)``. One way in, so a test or a second pool never diverges.
"""

from __future__ import annotations

from flask import Flask, current_app
from stockmind.pool import Pool


def init_database(app: Flask) -> None:
    app.extensions["db"] = Pool(app.config["DATABASE_URL"], maxconn=app.config["DB_POOL_MAX"])


def db(app: Flask | None = None) -> Pool:
    return (app or current_app).extensions["db"]
