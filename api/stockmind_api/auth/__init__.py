"""``/api/auth``: accounts, sessions and tokens.

views (routes) → schemas (request/response shapes, password rules) → queries (``app.users``
and ``app.auth_sessions``).
"""
