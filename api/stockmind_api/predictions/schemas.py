"""Response shape of the predictions endpoint (precision: ``stockmind_api.precision``)."""

from __future__ import annotations

from marshmallow import fields

from stockmind_api.precision import Percent, Price, Ratio
from stockmind_api.schemas import CamelSchema


class JudgementSchema(CamelSchema):
    """The model's validation metrics at this horizon beside the baselines': the mean
    absolute error of the log return against the naive baseline's (a zero return: the error
    to beat), and the share of right directions against the drift's (the training window's
    mean return, in practice "always up": the direction to beat — a zero forecast has no
    direction, so the naive baseline has none to show)."""

    lstm_mae = Ratio(allow_none=True)
    naive_mae = Ratio(allow_none=True)
    drift_mae = Ratio(allow_none=True)
    lstm_direction = Ratio(allow_none=True)
    drift_direction = Ratio(
        allow_none=True, metadata={"description": "the share of right directions to beat"}
    )
    better_than_naive = fields.Boolean(
        allow_none=True, metadata={"description": "lstmMae < naiveMae on the validation window"}
    )
    test_interval_coverage = Ratio(
        allow_none=True,
        metadata={"description": "share of test-window outcomes inside the interval"},
    )


class HorizonSchema(CamelSchema):
    label = fields.String(metadata={"description": "1w, 1m or 3m"})
    days = fields.Integer(metadata={"description": "trading days ahead"})
    target_price = Price()
    change_percent = Percent()
    low = Price(metadata={"description": "the interval's low price"})
    high = Price(metadata={"description": "the interval's high price"})
    trend = fields.String(metadata={"description": "up, down or flat"})
    validation = fields.Nested(JudgementSchema)


class PredictionSchema(CamelSchema):
    symbol = fields.String()
    as_of = fields.Date(metadata={"description": "the last bar the forecast starts from"})
    last_close = Price()
    model_version = fields.Integer()
    alias = fields.String(metadata={"description": "champion, or challenger"})
    status = fields.String(
        metadata={"description": "champion, or why the model is only the challenger"}
    )
    bullish_score = fields.Integer(metadata={"description": "0-100"})
    risk_level = fields.String(metadata={"description": "low, medium or high"})
    scored_at = fields.DateTime()
    horizons = fields.Nested(HorizonSchema, many=True)
