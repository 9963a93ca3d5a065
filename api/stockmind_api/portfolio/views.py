"""``/api/portfolio``: holdings and watchlist CRUD — authenticated, owner's rows only.

Both resources are one mechanism (:func:`register_resource`): list, create, get, patch
and delete, each scoped to the signed-in user. Another user's id answers 404 exactly
like a missing one (existence is never revealed); unknown symbols are 422, a second row
for the same symbol 409.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema

from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.parsing import Blueprint
from stockmind_api.portfolio import queries as q
from stockmind_api.portfolio.schemas import (
    HoldingInSchema,
    HoldingPatchSchema,
    HoldingSchema,
    WatchInSchema,
    WatchPatchSchema,
    WatchSchema,
)
from stockmind_api.schemas import envelope
from stockmind_api.security import auth_required, current_user

blp = Blueprint(
    "portfolio",
    __name__,
    url_prefix="/api/portfolio",
    description="Holdings and watchlists (authenticated)",
)


@dataclass(frozen=True)
class Resource:
    """One owner-scoped table served as a collection and its items."""

    table: str  # app.<table>, a key of queries.TABLES
    noun: str  # "holding", "watchlist entry"
    created: str  # the success message of a create
    listed: str  # the docstring of the list operation
    create_schema: type[Schema]
    patch_schema: type[Schema]
    schema: type[Schema]


def _user_id() -> int:
    return current_user()["id"]


def _found(resource: Resource, row_id: int, row: dict | None) -> dict:
    if row is None:
        abort(404, message=f"no such {resource.table} entry: {row_id}")
    return row


def register_resource(resource: Resource) -> None:
    """``/<table>`` (GET list, POST create) and ``/<table>/<id>`` (GET, PATCH, DELETE)."""
    table, out = resource.table, resource.schema

    class Collection(MethodView):
        @auth_required()
        @blp.response(200, envelope(out, many=True))
        def get(self):
            return success(q.list_rows(db(), table, _user_id()), table)

        @auth_required()
        @blp.arguments(resource.create_schema)
        @blp.response(201, envelope(out))
        def post(self, body):
            try:
                row = q.create_row(db(), table, _user_id(), body)
            except q.UnknownSymbol:
                symbol = body["symbol"]
                abort(422, message=f"unknown symbol {symbol}", errors={"symbol": ["unknown"]})
            except q.Conflict:
                message = f"{body['symbol']} is already in your {table}"
                abort(409, message=message, errors={"symbol": ["duplicate"]})
            except q.Inconsistent as exc:
                abort(422, message=f"inconsistent values ({exc})")
            return success(row, resource.created)

    class Item(MethodView):
        @auth_required()
        @blp.response(200, envelope(out))
        def get(self, row_id):
            return success(_found(resource, row_id, q.get_row(db(), table, _user_id(), row_id)))

        @auth_required()
        @blp.arguments(resource.patch_schema)
        @blp.response(200, envelope(out))
        def patch(self, body, row_id):
            try:
                row = q.update_row(db(), table, _user_id(), row_id, body)
            except q.Inconsistent as exc:
                abort(422, message=f"inconsistent values ({exc})")
            return success(_found(resource, row_id, row), f"{resource.noun} updated")

        @auth_required()
        @blp.response(200, envelope(out))
        def delete(self, row_id):
            """The deleted entry as it was (valued at the latest close), like a GET before."""
            row = q.delete_row(db(), table, _user_id(), row_id)
            return success(_found(resource, row_id, row), "deleted")

    Collection.get.__doc__ = resource.listed
    Collection.post.__doc__ = f"Add a {resource.noun} (one per symbol)."
    Collection.__name__ = f"{table.title()}Collection"
    Item.__name__ = f"{table.title()}Item"
    blp.route(f"/{table}", endpoint=f"{table}_collection")(Collection)
    blp.route(f"/{table}/<int:row_id>", endpoint=f"{table}_item")(Item)


HOLDINGS = Resource(
    table="holdings",
    noun="holding",
    created="holding added",
    listed="Your holdings valued at the latest close: cost, value, profit/loss.",
    create_schema=HoldingInSchema,
    patch_schema=HoldingPatchSchema,
    schema=HoldingSchema,
)
WATCHLIST = Resource(
    table="watchlist",
    noun="watchlist entry",
    created="added to watchlist",
    listed="Your watchlist with the latest close and whether an alert level is crossed.",
    create_schema=WatchInSchema,
    patch_schema=WatchPatchSchema,
    schema=WatchSchema,
)
for _resource in (HOLDINGS, WATCHLIST):
    register_resource(_resource)
