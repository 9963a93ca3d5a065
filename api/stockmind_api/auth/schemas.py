"""Request and response shapes of ``/api/auth``, and the password rules they enforce."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from stockmind_api.schemas import CamelSchema, EmailAddress, PatchSchema, dotted_domain

PASSWORD_MIN_CHARS = 10  # spaces not counted
PASSWORD_MIN_DISTINCT = 6


def check_password_strength(password: str, email: str = "") -> None:
    """Raise a ``ValidationError`` naming every rule ``password`` breaks.

    Letters and digits are recognized in every script (``ÄÖÜäöü1234!x`` passes); length
    and variety are counted without spaces, so padding (``"        Aa1!"``) does not
    make a password long, and leading/trailing spaces (lost by many forms) are refused."""
    visible = [char for char in password if not char.isspace()]
    rules = (
        (password == password.strip(), "not start or end with a space"),
        (
            len(visible) >= PASSWORD_MIN_CHARS,
            f"have at least {PASSWORD_MIN_CHARS} characters besides spaces",
        ),
        (
            len(set(visible)) >= PASSWORD_MIN_DISTINCT,
            f"use at least {PASSWORD_MIN_DISTINCT} different characters",
        ),
        (any(char.islower() for char in password), "contain a lower-case letter"),
        (any(char.isupper() for char in password), "contain an upper-case letter"),
        (any(char.isdecimal() for char in password), "contain a digit"),
    )
    problems = [rule for ok, rule in rules if not ok]
    local = email.split("@")[0].casefold()
    if len(local) >= 4 and local in password.casefold():
        problems.append("not contain your e-mail name")
    if problems:
        raise ValidationError("password must " + "; ".join(problems), "password")


class RegisterSchema(CamelSchema):
    email = EmailAddress(
        required=True,
        validate=[validate.Length(max=254), dotted_domain],
        metadata={"description": "NFKC-normalized and trimmed; a dotted domain, no IP literal"},
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={
            "description": f"At least {PASSWORD_MIN_CHARS} characters besides spaces, "
            f"{PASSWORD_MIN_DISTINCT} different ones, a lower-case and an upper-case letter "
            "and a digit (any script); no leading or trailing space; not the e-mail's name"
        },
    )
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def strong(self, data, **kwargs):
        check_password_strength(data.get("password", ""), data.get("email", ""))


class LoginSchema(CamelSchema):
    email = EmailAddress(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True)


class NotificationPreferencesSchema(CamelSchema):
    """The known notification switches; any other key is a 422 (bounded profile data).

    Stored as sent, camelCase keys in ``app.users.notification_preferences`` as before
    this schema existed: each field's attribute is its wire key."""

    price_alerts = fields.Boolean()
    daily_digest = fields.Boolean()
    news_alerts = fields.Boolean()
    prediction_updates = fields.Boolean()
    weekly_report = fields.Boolean()

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        field_obj.attribute = field_obj.data_key


class UserSchema(CamelSchema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    notification_preferences = fields.Nested(NotificationPreferencesSchema)
    subscription_tier = fields.String()
    created_at = fields.DateTime()


class ProfilePatchSchema(PatchSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    notification_preferences = fields.Nested(NotificationPreferencesSchema)
    # no subscription_tier: it sets rate limits, so only an operator changes it


class TokensSchema(CamelSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserSchema)


class ApiKeySchema(CamelSchema):
    api_key = fields.String()


class LogoutSchema(CamelSchema):
    refresh_token = fields.String(
        validate=validate.Length(max=4096),
        metadata={"description": "also end the session of this refresh token (optional)"},
    )
