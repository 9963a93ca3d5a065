"""Schema building blocks: camelCase JSON, the success envelope, pagination."""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, ValidationError, fields, pre_load, validate
from stockmind.events import camel


def _unstorable(value) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


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
        pairs.append(f"'{field.data_key or name}', {value}")
    return "json_build_object(" + ", ".join(pairs) + ")"
