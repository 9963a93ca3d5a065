"""``/api/portfolio``: holdings and the watchlist (authenticated, owner's rows only).

views (one CRUD mechanism for both resources) → schemas → queries.
"""
