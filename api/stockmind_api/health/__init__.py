"""``/api/health``: is the warehouse reachable, how fresh is its data, and do the daily
data-quality checks pass (``healthy`` | ``degraded``, with the reasons).

views → schemas → queries.
"""
