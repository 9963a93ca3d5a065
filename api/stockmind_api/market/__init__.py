"""``/api/market``: symbols, a stock's summary and bars, indicators, the scanner (public).

views (routes) → schemas (wire shapes, also rendered to SQL) → queries (parameterized
SQL over the marts).
"""
