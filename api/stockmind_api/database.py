"""The app's connection pool (created by the factory, kept in ``app.extensions``)."""

from __future__ import annotations

from flask import current_app
from stockmind.pool import Pool


def db() -> Pool:
    return current_app.extensions["db"]
