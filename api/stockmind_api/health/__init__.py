"""``/api/health``: is the warehouse reachable, and how fresh is its data.

views → schemas → queries.
"""
