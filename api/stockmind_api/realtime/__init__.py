"""``/ws/market``: live updates over WebSockets.

views (the route and handshake) → connections (per-process state: reactor, session pool,
hub, caps) → reactor (one epoll thread reading every socket), session (the message
protocol), client (one socket's state), caps (connection caps across workers), hub (one
LISTEN connection per process), queries (SQL).
"""
