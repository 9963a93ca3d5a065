"""Caps on concurrent WebSockets per client address and per user, across every worker.

A cap is a set of open connection ids per key (``ws:ip:<address>``, ``ws:user:<id>``).
With Redis (the limiter's storage, ``API_RATE_LIMIT_STORAGE``) the set is a sorted set
scored by when each process last vouched for its connection: the check-and-add is one
Lua script (atomic across workers), each process re-vouches for its open connections
every ``REFRESH_SECONDS``, and entries not vouched for within ``STALE_SECONDS`` (a worker
that was killed) stop counting on their own. Without Redis (tests, one process) the
sets live in memory. If Redis stops answering, caps fall back to this process's own
counts rather than refusing everyone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

log = logging.getLogger("stockmind_api.ws")

REFRESH_SECONDS = 30.0
STALE_SECONDS = 90.0

ACQUIRE = """
local key, member = KEYS[1], ARGV[1]
local limit, now, stale = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('zremrangebyscore', key, '-inf', now - stale)
if not redis.call('zscore', key, member) and redis.call('zcard', key) >= limit then
  return 0
end
redis.call('zadd', key, now, member)
redis.call('expire', key, math.ceil(stale * 2))
return 1
"""


class ConnectionCaps:
    def __init__(self, storage_uri: str):
        self._local: dict[str, set[str]] = defaultdict(set)
        self._lock = threading.Lock()
        self._redis = None
        if storage_uri.startswith(("redis://", "rediss://", "unix://")):
            import redis

            self._redis = redis.Redis.from_url(
                storage_uri, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            self._acquire = self._redis.register_script(ACQUIRE)
        self._last_refresh = time.monotonic()

    def acquire(self, key: str, member: str, limit: int) -> bool:
        """Count ``member`` under ``key`` unless ``limit`` connections are open already."""
        if self._redis is not None:
            try:
                args = [member, limit, time.time(), STALE_SECONDS]
                allowed = bool(self._acquire(keys=[key], args=args))
            except Exception as exc:  # redis down: this process's own count decides
                log.warning("connection caps: Redis unavailable (%s); counting locally", exc)
            else:
                with self._lock:
                    if allowed:
                        self._local[key].add(member)
                return allowed
        with self._lock:
            members = self._local[key]
            if member not in members and len(members) >= limit:
                return False
            members.add(member)
            return True

    def release(self, key: str, member: str) -> None:
        with self._lock:
            self._local[key].discard(member)
            if not self._local[key]:
                del self._local[key]
        if self._redis is not None:
            try:
                self._redis.zrem(key, member)
            except Exception as exc:
                log.warning("connection caps: could not release %s (%s)", key, exc)

    def refresh(self, held: Iterable[tuple[str, str]], force: bool = False) -> None:
        """Re-vouch for this process's open connections (every REFRESH_SECONDS)."""
        if self._redis is None or (
            not force and time.monotonic() - self._last_refresh < REFRESH_SECONDS
        ):
            return
        self._last_refresh = time.monotonic()
        now = time.time()
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key, member in held:
                    pipe.zadd(key, {member: now}, xx=True)
                    pipe.expire(key, int(STALE_SECONDS * 2))
                pipe.execute()
        except Exception as exc:
            log.warning("connection caps: refresh failed (%s)", exc)
