"""marshmallow fields that send a number with its decided precision.

The decision (how many decimals for prices, percentages, ratios, quantities, volumes)
is the core's: ``stockmind.precision``, shared with the WebSocket messages. Here each kind
is a field type, and each field also knows the same rounding as SQL for the endpoints
whose JSON PostgreSQL builds (``schemas.json_object_sql``). The OpenAPI document states
each field's precision.
"""

from __future__ import annotations

from marshmallow import fields
from stockmind.precision import PLACES, round_to, sql_round


class Rounded(fields.Float):
    """A float sent rounded to the decimals of its ``kind`` (the class attribute)."""

    kind = "price"

    def __init__(self, **kwargs) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        note = f"Rounded to {PLACES[self.kind]} decimal places."
        described = metadata.get("description")
        metadata["description"] = f"{described}. {note}" if described else note
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return float(round_to(value, PLACES[self.kind]))

    def sql(self, expression: str) -> str:
        return sql_round(expression, self.kind)


class Price(Rounded):
    kind = "price"


class Percent(Rounded):
    kind = "percent"


class Ratio(Rounded):
    kind = "ratio"


class Quantity(Rounded):
    kind = "quantity"


class Entered(Rounded):
    """What the user typed in, echoed as stored (not cut to a price's 4 decimals)."""

    kind = "entered"


class Seconds(Rounded):
    kind = "seconds"


class WholeNumber(fields.Integer):
    """An integer; a fractional value (an average volume) is rounded, not truncated."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return int(round_to(value, 0))

    @staticmethod
    def sql(expression: str) -> str:
        return sql_round(expression, "whole")
