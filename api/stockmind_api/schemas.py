"""Schema building blocks: camelCase JSON, the success envelope, pagination."""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import cache

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from stockmind.events import camel
from stockmind.universe import SYMBOL_RE

from stockmind_api.precision import Rounded, WholeNumber

# tickers are checked upper-cased against SYMBOL_RE; the document states the rule for the
# input, where lower case is accepted too
SYMBOL_PATTERN = SYMBOL_RE.pattern.replace("A-Z", "A-Za-z")

# every date the API accepts lies in this range (year 1 or 9999 would overflow the
# default windows, ``end - 365 days``, into a 500)
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def _unstorable_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unstorable(value) -> bool:
    """Whether ``value`` holds text PostgreSQL cannot store; iterative, so a deeply nested
    value cannot raise ``RecursionError``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _unstorable_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def within_calendar(value: dt.date) -> None:
    """A plain validator, not ``validate.Range``: apispec writes Range bounds of date fields
    as strings next to ``format: date`` (an invalid document); the range is described."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")


class CalendarDate(fields.Date):
    """An ISO date between ``EARLIEST_DATE`` and ``LATEST_DATE``, documented as such
    (``metadata["description"]`` is kept in front of the range)."""

    def __init__(self, **kwargs) -> None:
        validators = kwargs.pop("validate", None) or []
        if callable(validators):
            validators = [validators]
        metadata = dict(kwargs.pop("metadata", None) or {})
        bounds = f"Between {EARLIEST_DATE} and {LATEST_DATE}."
        described = metadata.get("description")
        metadata["description"] = f"{described}. {bounds}" if described else bounds
        super().__init__(validate=[within_calendar, *validators], metadata=metadata, **kwargs)


class CamelSchema(Schema):
    """Python snake_case attributes, camelCase on the wire."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camel(field_obj.data_key or field_name)

    @pre_load
    def reject_unstorable_text(self, data, **kwargs):
        """PostgreSQL text cannot hold NUL or lone surrogates: a 422, not a 500."""
        if hasattr(data, "items"):
            bad = {
                k: ["must be valid text without NUL characters"]
                for k, v in data.items()
                if _unstorable(k) or _unstorable(v)
            }
            if bad:
                raise ValidationError(bad)
        return data


@cache
def envelope(schema: type[Schema], many: bool = False) -> type[Schema]:
    """``{"data": <schema>, "message", "status", "success"}`` as an OpenAPI-visible schema."""
    name = f"{schema.__name__.removesuffix('Schema')}{'List' if many else ''}Envelope"
    return Schema.from_dict(
        {
            "data": fields.Nested(schema, many=many),
            "message": fields.String(),
            "status": fields.String(),
            "success": fields.Boolean(),
        },
        name=name,
    )


class EmailAddress(fields.Email):
    """An e-mail address, NFKC-normalized and trimmed before it is validated, stored or
    looked up: full-width or other compatibility forms of an address are the same account."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return unicodedata.normalize("NFKC", text).strip()


def dotted_domain(address: str) -> None:
    """Mail for an account goes to a DNS name: refuse ``localhost``-style single labels
    and IP literals, which marshmallow's Email accepts (``[127.0.0.1]``, ``10.0.0.12``)."""
    labels = address.rpartition("@")[2].split(".")
    if len(labels) < 2 or not any(char.isalpha() for char in labels[-1]):
        raise ValidationError("needs a domain name with a dot, such as example.com")


class PatchSchema(CamelSchema):
    """A partial update: an empty JSON object changes nothing and is refused (422)."""

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("nothing to change: send at least one field")


class PaginationSchema(CamelSchema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    total_pages = fields.Integer()


class PageArgsSchema(CamelSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


def paginated(schema: type[Schema]) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.Nested(schema, many=True), "pagination": fields.Nested(PaginationSchema)},
        name=f"{schema.__name__.removesuffix('Schema')}Page",
    )


class ErrorSchema(Schema):
    """The error envelope, documented for every error response in the OpenAPI document."""

    data = fields.Raw(allow_none=True)
    message = fields.String()
    status = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())
    success = fields.Boolean()
    code = fields.Integer()


def json_object_sql(schema: type[Schema], alias: str, **nested: str) -> str:
    """``json_build_object(...)`` rendering a row of ``alias`` with ``schema``'s wire keys.

    The hot read endpoints let PostgreSQL build their JSON (dumping a year of bars through
    marshmallow cost more than the queries); deriving the SQL from the schema keeps one
    definition of the keys, and the OpenAPI document (checked by schemathesis) still
    describes what is sent. ``nested`` gives the SQL of each ``Nested`` field.
    """
    pairs = []
    for name, field in schema().dump_fields.items():
        value = nested[name] if isinstance(field, fields.Nested) else f"{alias}.{name}"
        if isinstance(field, Rounded | WholeNumber):  # the precision of the dump path
            value = field.sql(value)
        pairs.append(f"'{field.data_key or name}', {value}")
    return "json_build_object(" + ", ".join(pairs) + ")"
