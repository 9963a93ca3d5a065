"""Response shape of ``/api/analytics`` (money and ratios rounded, see ``precision``)."""

from __future__ import annotations

from marshmallow import fields

from stockmind_api.precision import Price, Ratio
from stockmind_api.schemas import CamelSchema


class PointSchema(CamelSchema):
    date = fields.Date()
    value = Price()


class SliceSchema(CamelSchema):
    key = fields.String()
    value = Price()
    weight = Ratio()


class RiskSchema(CamelSchema):
    observations = fields.Integer()
    volatility = Ratio(allow_none=True)
    beta = Ratio(allow_none=True)
    sharpe = Ratio(allow_none=True)
    max_drawdown = Ratio(allow_none=True)
    var_95 = Ratio(allow_none=True, data_key="var95")


class AnalyticsSchema(CamelSchema):
    start = fields.Date()
    end = fields.Date()
    benchmark = fields.String()
    value_over_time = fields.Nested(PointSchema, many=True)
    allocation_by_symbol = fields.Nested(SliceSchema, many=True)
    allocation_by_sector = fields.Nested(SliceSchema, many=True)
    risk = fields.Nested(RiskSchema)
