"""Swagger UI's files for ``/api/docs``, served from the installed ``swagger-ui-bundle``
package: the page works offline (no CDN), at the version the lock pins."""

from __future__ import annotations

from flask import Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/api/docs/assets/"


def init_docs_assets(app: Flask) -> None:
    @app.route(ASSETS_URL + "<path:name>", endpoint="docs_assets")
    def docs_assets(name: str):
        return send_from_directory(swagger_ui_path, name, max_age=86400)
