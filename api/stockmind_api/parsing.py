"""Request parsing shared by every blueprint: JSON bodies that are JSON, shallow and sane.

webargs' stock parser reads a body with any Content-Type as "no body" (an empty object,
so a PATCH without a body succeeded), hands ``json.loads`` a body of any depth (a
``RecursionError``, answered as a 500) and lets schemas recurse into what it returned.
Every blueprint uses :class:`Blueprint`, whose parser answers those requests with a 4xx
in the API's envelope instead.
"""

from __future__ import annotations

import functools
import http
import json
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

import flask
import flask_smorest
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

# our bodies nest two levels (an object holding notificationPreferences): ten is plenty
MAX_JSON_DEPTH = 10
# the webargs location of a JSON body an endpoint takes but does not need
# (``arguments(…, required=False)``): no body is fine, a non-JSON body is not
OPTIONAL_JSON = "optional_json"


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion).

    The top-level object counts as depth 1, like ``{"a": 1}``; scalars have depth 0."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> NoReturn:
    abort(
        400,
        message=f"request body nests deeper than {MAX_JSON_DEPTH} levels",
        messages={"json": [f"nesting deeper than {MAX_JSON_DEPTH} levels is not accepted"]},
    )


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, strict about JSON bodies (location ``json``):

    * not ``application/json`` (or ``+json``), or no body at all: 415 (location
      ``OPTIONAL_JSON``: an empty body is no arguments);
    * not JSON, or nested deeper than ``MAX_JSON_DEPTH``: 400;
    * a ``RecursionError`` while loading or validating any location: 400, never a 500.
    """

    __location_map__: ClassVar[dict] = {
        **FlaskParser.__location_map__,
        OPTIONAL_JSON: "load_optional_json",
    }

    def load_optional_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        if not req.get_data(cache=True).strip():
            return core.missing
        return self.load_json(req, schema)

    def load_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        if not is_json_request(req):
            abort(
                415,
                message="the request body must be JSON (Content-Type: application/json)",
                messages={"json": ["expected a JSON body"]},
            )
        raw = req.get_data(cache=True)  # past MAX_CONTENT_LENGTH: werkzeug raises a 413
        if not raw.strip():
            abort(
                415,
                message="this endpoint needs a JSON body",
                messages={"json": ["missing JSON body"]},
            )
        try:
            data = core.parse_json(raw)
        except RecursionError:
            _too_deep()
        except json.JSONDecodeError as exc:
            self._handle_invalid_json_error(exc, req)
        if nesting_depth_exceeds(data, MAX_JSON_DEPTH):
            _too_deep()
        return data

    def _parse_uncached(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().parse(*args, **kwargs)
        except RecursionError:
            _too_deep()

    def parse(self, argmap: Any, req: flask.Request | None = None, **kwargs: Any) -> Any:
        """Query arguments are loaded once per distinct query string and schema, then
        served from a bounded memo (~40 µs of marshmallow per request on ``/stock``, a
        tenth of its time in the API). Only plain query-string loads of a schema class
        with no extra validators are kept: their result depends on nothing but those
        bytes (no default depends on the time; a check against today, "start not after
        today", only turns a rejection into an acceptance as days pass, and rejections
        are never kept: a failed load raises as before). A caller gets its own copy."""
        cacheable = (
            kwargs.get("location") == "query"
            and kwargs.get("validate") is None
            and isinstance(argmap, type)
        )
        if not cacheable:
            return self._parse_uncached(argmap, req, **kwargs)
        req = req if req is not None else flask.request
        key = (argmap, req.query_string, kwargs.get("unknown", core._UNKNOWN_DEFAULT_PARAM))
        hit = _PARSED_QUERIES.get(key)
        if hit is None:
            hit = self._parse_uncached(argmap, req, **kwargs)
            if len(_PARSED_QUERIES) >= MAX_PARSED_QUERIES:
                _PARSED_QUERIES.clear()  # any caller can vary the query: bounded, not LRU
            _PARSED_QUERIES[key] = hit
        return dict(hit)

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        """One instance per schema class, made once: flask-smorest hands webargs the class,
        and a new instance per request deep-copied every field (~30 µs, as much as the
        load itself). Loading keeps no state on the instance (flask-smorest dumps every
        response through one instance per route the same way)."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _instance_of(argmap)
        return super()._get_schema(argmap, req)


MAX_PARSED_QUERIES = 4096
_PARSED_QUERIES: dict[tuple, dict] = {}  # (schema class, raw query, unknown) -> arguments


@functools.cache
def _instance_of(schema: type[ma.Schema]) -> ma.Schema:
    return schema()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with :class:`JsonBodyParser`; JSON-body operations also
    document the 400, 413 and 415 answers. ``arguments(schema, required=False)`` takes an
    optional JSON body (location ``OPTIONAL_JSON``, documented as a JSON request body)."""

    ARGUMENTS_PARSER = JsonBodyParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        OPTIONAL_JSON: "application/json",
    }
    BODY_ERRORS = (400, 413, 415)

    def arguments(
        self, schema: Any, *, location: str = "json", required: bool = True, **kwargs: Any
    ) -> Callable:
        if location == "json" and not required:
            location = OPTIONAL_JSON
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location not in ("json", OPTIONAL_JSON):
            return parse

        def decorator(func: Callable) -> Callable:
            view = parse(func)
            for status in self.BODY_ERRORS:
                view = self.alt_response(status, response=http.HTTPStatus(status).name)(view)
            return view

        return decorator
