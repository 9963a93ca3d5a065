"""``/api/portfolio``: holdings and watchlist CRUD — authenticated, owner's rows only.

Another user's id answers 404 exactly like a missing one (existence is never revealed);
unknown symbols are 422, a second row for the same symbol 409.
"""

from __future__ import annotations

import datetime as dt

from flask_smorest import abort
from marshmallow import ValidationError, fields, validate, validates_schema
from stockmind.universe import SYMBOL_RE

from stockmind_api import portfolio_queries as q
from stockmind_api.database import db
from stockmind_api.errors import success
from stockmind_api.parsing import Blueprint
from stockmind_api.schemas import SYMBOL_PATTERN, CalendarDate, CamelSchema, PatchSchema, envelope
from stockmind_api.security import auth_required, current_user

blp = Blueprint(
    "portfolio",
    __name__,
    url_prefix="/api/portfolio",
    description="Holdings and watchlists (authenticated)",
)


def non_negative(value: float) -> None:
    if value < 0:
        raise ValidationError("must not be negative")


def positive(value: float) -> None:
    if value <= 0:
        raise ValidationError("must be greater than 0")


def not_in_future(value: dt.date) -> None:
    """A holding counts in the analytics from its purchase date on: not one still to come."""
    if value > dt.date.today():
        raise ValidationError("must not be after today")


def ticker(value: str) -> None:
    """The rule of the path's ``{symbol}`` (``SYMBOL_RE``), so a typo is a clear 422."""
    if not SYMBOL_RE.fullmatch(value):
        raise ValidationError("not a ticker symbol")


# plain validator functions, not validate.Range: apispec writes Range bounds of Float
# fields as strings (an invalid OpenAPI document); the bounds are documented through
# metadata instead. Values beyond numeric(20, 6) are refused by the database and
# answered as 422.
MONEY = {"validate": non_negative, "metadata": {"minimum": 0}}
POSITIVE = {"validate": positive, "metadata": {"minimum": 0, "exclusiveMinimum": True}}


class SymbolField(fields.String):
    """A ticker, trimmed and upper-cased, checked against ``SYMBOL_RE``."""

    def __init__(self, **kwargs) -> None:
        metadata = {"pattern": SYMBOL_PATTERN, "description": "A ticker symbol (case-insensitive)."}
        super().__init__(
            validate=[validate.Length(min=1, max=20), ticker], metadata=metadata, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().upper()


class HoldingInSchema(CamelSchema):
    symbol = SymbolField(required=True)
    shares = fields.Float(required=True, **POSITIVE)
    average_price = fields.Float(required=True, **MONEY)
    purchase_date = CalendarDate(
        allow_none=True,
        validate=not_in_future,
        metadata={"description": "The day bought; not after today"},
    )
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


class HoldingPatchSchema(HoldingInSchema, PatchSchema):
    class Meta:
        exclude = ("symbol",)

    shares = fields.Float(**POSITIVE)
    average_price = fields.Float(**MONEY)


class HoldingSchema(CamelSchema):
    id = fields.Integer()
    symbol = fields.String()
    shares = fields.Float()
    average_price = fields.Float()
    purchase_date = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    current_price = fields.Float(allow_none=True)
    price_date = fields.Date(allow_none=True)
    total_cost = fields.Float()
    current_value = fields.Float(allow_none=True)
    profit_loss = fields.Float(allow_none=True)
    profit_loss_percent = fields.Float(allow_none=True)


class WatchInSchema(CamelSchema):
    symbol = SymbolField(required=True)
    alert_price_above = fields.Float(allow_none=True, **POSITIVE)
    alert_price_below = fields.Float(
        allow_none=True,
        validate=POSITIVE["validate"],
        metadata={**POSITIVE["metadata"], "description": "Below alertPriceAbove when both set"},
    )
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def ordered(self, data, **kwargs):
        above, below = data.get("alert_price_above"), data.get("alert_price_below")
        if above is not None and below is not None and below >= above:
            raise ValidationError("must be below alertPriceAbove", "alertPriceBelow")


class WatchPatchSchema(WatchInSchema, PatchSchema):
    class Meta:
        exclude = ("symbol",)


class WatchSchema(CamelSchema):
    id = fields.Integer()
    symbol = fields.String()
    alert_price_above = fields.Float(allow_none=True)
    alert_price_below = fields.Float(allow_none=True)
    notes = fields.String(allow_none=True)
    current_price = fields.Float(allow_none=True)
    price_date = fields.Date(allow_none=True)
    above_alert = fields.Boolean(allow_none=True)
    below_alert = fields.Boolean(allow_none=True)


def _create(table: str, body: dict):
    try:
        return q.create_row(db(), table, current_user()["id"], body)
    except q.UnknownSymbol:
        abort(422, message=f"unknown symbol {body['symbol']}", errors={"symbol": ["unknown"]})
    except q.Conflict:
        abort(
            409,
            message=f"{body['symbol']} is already in your {table}",
            errors={"symbol": ["duplicate"]},
        )
    except q.Inconsistent as exc:
        abort(422, message=f"inconsistent values ({exc})")


def _owned(table: str, row_id: int, found: dict | None):
    if found is None:
        abort(404, message=f"no such {table} entry: {row_id}")
    return found


def _update(table: str, row_id: int, body: dict):
    try:
        return _owned(table, row_id, q.update_row(db(), table, current_user()["id"], row_id, body))
    except q.Inconsistent as exc:
        abort(422, message=f"inconsistent values ({exc})")


def _delete(table: str, row_id: int):
    """The deleted entry as it was (valued at the latest close), like a GET before."""
    return success(
        _owned(table, row_id, q.delete_row(db(), table, current_user()["id"], row_id)), "deleted"
    )


@blp.route("/holdings")
@auth_required()
@blp.response(200, envelope(HoldingSchema, many=True))
def list_holdings():
    """Your holdings valued at the latest close: cost, value, profit/loss."""
    return success(q.list_rows(db(), "holdings", current_user()["id"]), "holdings")


@blp.route("/holdings", methods=["POST"])
@auth_required()
@blp.arguments(HoldingInSchema)
@blp.response(201, envelope(HoldingSchema))
def create_holding(body):
    """Add a holding (one per symbol)."""
    return success(_create("holdings", body), "holding added")


@blp.route("/holdings/<int:row_id>")
@auth_required()
@blp.response(200, envelope(HoldingSchema))
def get_holding(row_id):
    return success(
        _owned("holdings", row_id, q.get_row(db(), "holdings", current_user()["id"], row_id))
    )


@blp.route("/holdings/<int:row_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(HoldingPatchSchema)
@blp.response(200, envelope(HoldingSchema))
def update_holding(body, row_id):
    return success(_update("holdings", row_id, body), "holding updated")


@blp.route("/holdings/<int:row_id>", methods=["DELETE"])
@auth_required()
@blp.response(200, envelope(HoldingSchema))
def delete_holding(row_id):
    return _delete("holdings", row_id)


@blp.route("/watchlist")
@auth_required()
@blp.response(200, envelope(WatchSchema, many=True))
def list_watchlist():
    """Your watchlist with the latest close and whether an alert level is crossed."""
    return success(q.list_rows(db(), "watchlist", current_user()["id"]), "watchlist")


@blp.route("/watchlist", methods=["POST"])
@auth_required()
@blp.arguments(WatchInSchema)
@blp.response(201, envelope(WatchSchema))
def create_watch(body):
    return success(_create("watchlist", body), "added to watchlist")


@blp.route("/watchlist/<int:row_id>")
@auth_required()
@blp.response(200, envelope(WatchSchema))
def get_watch(row_id):
    return success(
        _owned("watchlist", row_id, q.get_row(db(), "watchlist", current_user()["id"], row_id))
    )


@blp.route("/watchlist/<int:row_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(WatchPatchSchema)
@blp.response(200, envelope(WatchSchema))
def update_watch(body, row_id):
    return success(_update("watchlist", row_id, body), "watchlist entry updated")


@blp.route("/watchlist/<int:row_id>", methods=["DELETE"])
@auth_required()
@blp.response(200, envelope(WatchSchema))
def delete_watch(row_id):
    return _delete("watchlist", row_id)
