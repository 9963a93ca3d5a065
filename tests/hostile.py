"""What the hostile-client tests share: the live server they attack (gunicorn with two
workers, as ``make up`` runs it, counters in a real Redis), one request from a chosen
loopback address, and a WebSocket client on a bare socket that reads only when asked."""

import contextlib
import http.client
import json
import socket
import time

import wsproto
import wsproto.events as wse
from conftest import live_api, run_dbt
from test_api_auth import PASSWORD

LIMITS = {
    "API_RATE_LIMIT_ENABLED": "true",
    "API_RATE_LIMIT_ANON": "40/hour",
    "API_RATE_LIMIT_USER": "60/hour",
    "API_RATE_LIMIT_PRO": "200/hour",
    "API_CORS_ORIGINS": "http://app.example",
    "API_METRICS_TOKEN": "scrape-" + "y" * 24,
    "WS_MAX_PER_IP": "600",
    "WS_MAX_PER_USER": "2",
    "WS_IDLE_SECONDS": "120",
}


@contextlib.contextmanager
def hostile_server(warehouse: str, redis_url: str):
    """The API as ``make up`` serves it, with budgets small enough to exhaust in a test."""
    run_dbt(warehouse, "run", "--select", "+dim_symbols")  # the symbol search's mart
    with live_api(warehouse, workers=2, API_RATE_LIMIT_STORAGE=redis_url, **LIMITS) as base:
        yield base, warehouse, redis_url


def call(base, method, path, body=None, headers=None, ip="127.0.0.1"):
    """One request on a new connection from ``ip``: (status, headers, JSON body)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15, source_address=(ip, 0))
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    conn.request(method, path, json.dumps(body).encode() if body is not None else None, sent)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    is_json = response.headers.get("Content-Type", "").startswith("application/json")
    return response.status, response.headers, json.loads(raw) if is_json else raw


def register(base, email, ip):
    status, _, body = call(
        base,
        "POST",
        "/api/auth/register",
        {"email": email, "password": PASSWORD, "fullName": "Hardening"},
        ip=ip,
    )
    assert status == 201, body
    return body["data"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class RawSocket:
    """A WebSocket client on a bare socket that reads only when asked (and so never
    answers a ping unless it reads)."""

    def __init__(self, base, ip="127.0.0.1", path="/ws/market", origin=None):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), 10, source_address=(ip, 0))
        self.conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        extra = [("Origin", origin)] if origin else []
        self.sock.sendall(self.conn.send(wse.Request(host=host, target=path, extra_headers=extra)))
        self.events: list = []
        self.handshake = self.wait_for(wse.AcceptConnection, wse.RejectConnection)

    def read(self, timeout: float) -> bool:
        """Take whatever arrives within ``timeout``; False once the peer is gone."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return True
        except OSError:
            return False
        self.conn.receive_data(data or None)
        self.events.extend(self.conn.events())
        return bool(data)

    def wait_for(self, *kinds, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if isinstance(event, kinds):
                    self.events.remove(event)
                    return event
            if not self.read(max(0.01, deadline - time.monotonic())):
                break
        return next((e for e in self.events if isinstance(e, kinds)), None)

    def close_event(self):
        return next((e for e in self.events if isinstance(e, wse.CloseConnection)), None)

    def send(self, message: dict) -> None:
        self.sock.sendall(self.conn.send(wse.TextMessage(json.dumps(message))))
