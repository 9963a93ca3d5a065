"""Request and response shapes of ``/api/portfolio`` (holdings and the watchlist)."""

from __future__ import annotations

import datetime as dt

from marshmallow import ValidationError, fields, validate, validates_schema
from stockmind.universe import SYMBOL_RE

from stockmind_api.precision import Entered, Percent, Price, Quantity
from stockmind_api.schemas import SYMBOL_PATTERN, CalendarDate, CamelSchema, PatchSchema


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
    shares = Quantity()
    average_price = Entered()
    purchase_date = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    current_price = Price(allow_none=True)
    price_date = fields.Date(allow_none=True)
    total_cost = Price()
    current_value = Price(allow_none=True)
    profit_loss = Price(allow_none=True)
    profit_loss_percent = Percent(allow_none=True)


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
    alert_price_above = Entered(allow_none=True)
    alert_price_below = Entered(allow_none=True)
    notes = fields.String(allow_none=True)
    current_price = Price(allow_none=True)
    price_date = fields.Date(allow_none=True)
    above_alert = fields.Boolean(allow_none=True)
    below_alert = fields.Boolean(allow_none=True)
