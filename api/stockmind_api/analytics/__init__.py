"""``/api/analytics``: the signed-in user's portfolio over time, allocation and risk.

views → schemas → queries; the risk formulas in ``risk``.
"""
