"""API configuration from the environment (one class; tests subclass it)."""

from __future__ import annotations

import os

from stockmind.db import warehouse_dsn


class Config:
    """Read once at app creation. Every value has an environment variable."""

    API_TITLE = "StockMind API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
    JSON_SORT_KEYS = False

    def __init__(self) -> None:
        self.DATABASE_URL = warehouse_dsn()
        self.API_PORT = int(os.environ.get("API_PORT", "8000"))
        self.DB_POOL_MAX = int(os.environ.get("API_DB_POOL_MAX", "16"))
        self.PAGE_SIZE_DEFAULT = 100
        self.PAGE_SIZE_MAX = 1000
