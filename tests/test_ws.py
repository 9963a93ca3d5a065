"""``/ws/market`` on the real server (gunicorn, the ``make up`` command) over real sockets:
the real ``poll_quotes`` DAG publishes, PostgreSQL NOTIFY carries it, clients receive it."""

import datetime as dt
import json
import socket
import time
import urllib.error
import urllib.request

import pendulum
import pytest
import wsproto
import wsproto.events as wse
from conftest import live_api, run_dbt
from simple_websocket import Client, ConnectionClosed
from stockmind import events
from stockmind.db import connect
from stockmind.profiles import refresh_profiles
from stockmind.providers.sample import SampleProvider
from stockmind.universe import resolve_universe
from test_api_auth import PASSWORD
from test_quotes import AT, run_poll_dag

pytestmark = pytest.mark.slow
LIMITS = {
    "WS_MAX_SUBSCRIPTIONS": "3",
    "WS_QUEUE_SIZE": "64",
    "WS_IDLE_SECONDS": "3",
    "WS_SEND_TIMEOUT_SECONDS": "2",
}


@pytest.fixture(scope="module")
def server(module_warehouse):
    refresh_profiles(resolve_universe("sample"), SampleProvider(), dsn=module_warehouse)
    run_dbt(module_warehouse, "run", "--select", "+dim_symbols")  # what one may subscribe to
    with live_api(module_warehouse, **LIMITS) as base:
        yield base, module_warehouse


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws/market"


def open_ws(base: str) -> Client:
    return Client.connect(ws_url(base))


def send(ws: Client, **message) -> None:
    ws.send(json.dumps(message))


def recv(ws: Client, timeout: float = 5.0) -> dict | None:
    frame = ws.receive(timeout=timeout)
    return json.loads(frame) if frame is not None else None


def recv_all(ws: Client, quiet: float = 1.0) -> list[dict]:
    got = []
    while (message := recv(ws, quiet)) is not None:
        got.append(message)
    return got


def subscribe(ws: Client, symbol: str) -> list[dict]:
    send(ws, type="subscribe", symbol=symbol)
    return recv_all(ws, 0.5)


def health(base: str) -> dict:
    return json.loads(urllib.request.urlopen(base + "/api/health", timeout=5).read())["data"]


def test_updates_reach_the_subscribers_of_each_symbol_only(server, airflow_db, monkeypatch):
    base, _ = server
    a, b, c = open_ws(base), open_ws(base), open_ws(base)
    assert subscribe(a, "AAPL") == [
        {"type": "subscribed", "symbol": "AAPL", "message": "Subscribed to AAPL"}
    ]  # no quote yet: nothing follows
    subscribe(a, "msft")
    subscribe(b, "XOM")
    subscribe(c, "AAPL")
    subscribe(c, "KO")
    send(c, type="unsubscribe", symbol="AAPL")
    assert recv(c) == {
        "type": "unsubscribed",
        "symbol": "AAPL",
        "message": "Unsubscribed from AAPL",
    }

    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.setenv("DATABASE_URL", server[1])
    assert run_poll_dag(pendulum.instance(AT)).state == "success"

    got_a, got_b = recv_all(a), recv_all(b)
    assert sorted(m["data"]["symbol"] for m in got_a) == ["AAPL", "MSFT"]
    assert [m["data"]["symbol"] for m in got_b] == ["XOM"]
    assert [m["data"]["symbol"] for m in recv_all(c, 0.5)] == ["KO"]  # not AAPL any more
    update = got_a[0]
    assert update["type"] == "stock_update"
    assert update["data"]["timestamp"] == AT.isoformat() and update["data"]["price"] > 0
    late = open_ws(base)  # a new subscriber gets the latest quote at once
    subscribed, latest = subscribe(late, "XOM")
    assert subscribed["type"] == "subscribed" and latest == got_b[0]
    for ws in (a, b, c, late):
        ws.close()


def login(base: str, email: str) -> dict:
    def post(path, body):
        request = urllib.request.Request(
            base + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        return json.loads(urllib.request.urlopen(request, timeout=10).read())["data"]

    post("/api/auth/register", {"email": email, "password": PASSWORD, "fullName": "Ws User"})
    return post("/api/auth/login", {"email": email, "password": PASSWORD})


def test_auth_by_first_message(server):
    base, _ = server
    tokens = login(base, "ws@example.com")
    ws = open_ws(base)
    send(ws, type="auth", token=tokens["accessToken"])
    assert recv(ws)["type"] == "authenticated"
    assert subscribe(ws, "AAPL")[0]["type"] == "subscribed"
    ws.close()
    for bad in ("not-a-jwt", tokens["refreshToken"]):
        ws = open_ws(base)
        send(ws, type="auth", token=bad)
        assert recv(ws)["message"].startswith("authentication failed")
        with pytest.raises(ConnectionClosed):
            recv(ws)
        assert ws.close_reason == 4401


def test_required_auth_is_asked_for_not_enforced_by_disconnect(server):
    _, dsn = server
    with live_api(dsn, WS_REQUIRE_AUTH="true") as strict:
        tokens = login(strict, "strict@example.com")
        ws = open_ws(strict)
        [reply] = subscribe(ws, "AAPL")
        assert reply["type"] == "error" and reply["message"].startswith("authenticate first")
        send(ws, type="auth", token=tokens["accessToken"])
        assert recv(ws)["type"] == "authenticated"
        assert subscribe(ws, "AAPL")[0]["type"] == "subscribed"
        ws.close()


def test_mistakes_are_answered_not_disconnected(server):
    base, _ = server
    ws = open_ws(base)
    for frame, expected in [
        ("{nope", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "dance"}', "unknown message type"),
        ('{"type": "subscribe", "symbol": "no such!"}', "ticker symbol"),
        ('{"type": "subscribe", "symbol": "ZZZZ"}', "unknown symbol ZZZZ"),
    ]:
        ws.send(frame)
        reply = recv(ws)
        assert reply["type"] == "error" and expected in reply["message"], reply
    for symbol in ("AAPL", "MSFT", "XOM"):
        subscribe(ws, symbol)
    send(ws, type="subscribe", symbol="KO")  # the limit is 3 here
    assert "subscription limit reached (3)" in recv(ws)["message"]
    send(ws, type="ping")
    assert recv(ws) == {"type": "pong"}
    ws.close()


def test_plain_http_gets_a_clear_400_in_the_envelope(server):
    base, _ = server
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base + "/ws/market", timeout=5)
    body = json.loads(caught.value.read())
    assert caught.value.code == 400 and body["code"] == 400 and body["success"] is False
    assert "WebSocket endpoint" in body["message"]


def test_a_silent_connection_without_subscriptions_times_out(server):
    base, _ = server
    ws = open_ws(base)
    with pytest.raises(ConnectionClosed):
        recv(ws, timeout=10)
    assert ws.close_reason == 1000 and ws.close_message == "idle timeout"


class SlowClient:
    """A WebSocket client that subscribes and then never reads (a tiny receive buffer)."""

    def __init__(self, base: str, symbol: str):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        self.conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.sock.sendall(self.conn.send(wse.Request(host=host, target="/ws/market")))
        self._events(until=wse.AcceptConnection)
        self.sock.sendall(
            self.conn.send(wse.TextMessage(json.dumps({"type": "subscribe", "symbol": symbol})))
        )

    def _events(self, until):
        while True:
            self.conn.receive_data(self.sock.recv(4096))
            for event in self.conn.events():
                if isinstance(event, until):
                    return event

    def close_code(self, timeout: float = 30) -> int | None:
        """Read everything now: the server's close frame's code, None when it just hung up."""
        self.sock.settimeout(timeout)
        try:
            while data := self.sock.recv(65536):
                self.conn.receive_data(data)
                for event in self.conn.events():
                    if isinstance(event, wse.CloseConnection):
                        return event.code
        except (ConnectionResetError, TimeoutError):
            pass
        return None


def test_a_slow_client_is_dropped_and_others_keep_pace(server):
    base, dsn = server
    slow, fast = SlowClient(base, "NFLX"), open_ws(base)
    subscribe(fast, "NFLX")
    dropped_before = health(base)["realtime"]["dropped"]
    # 2,000 updates of ~600 bytes in 200 notifications over ~2 s: an easy pace for a reading
    # client, ~1.2 MB more than a silent one's socket buffers and 64-message queue hold
    n, per_notification, pad = 2000, 10, "x" * 500
    items = [{"symbol": "NFLX", "price": 100 + i / 100, "seq": i, "pad": pad} for i in range(n)]
    conn = connect(dsn)
    conn.autocommit = True  # each NOTIFY is sent at once (not inside `with conn`: a transaction)
    with conn.cursor() as cur:
        for start in range(0, n, per_notification):
            events.publish(cur, events.STOCK_UPDATE, items[start : start + per_notification])
            time.sleep(0.01)
    conn.close()
    started, seen = time.monotonic(), []
    while len(seen) < n and time.monotonic() - started < 30:
        message = recv(fast, 5)
        assert message is not None, f"the fast client stalled after {len(seen)} messages"
        seen.append(message["data"]["seq"])
    assert seen == list(range(n))  # all of them, in order
    assert health(base)["realtime"]["dropped"] > dropped_before
    metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    assert "stockmind_ws_dropped_total" in metrics and "stockmind_ws_clients" in metrics
    assert slow.close_code() in (1008, None)  # told why, unless its buffers were full
    fast.close()


def test_the_listener_survives_a_postgres_restart(tmp_path_factory):
    """A cluster of its own, restarted under a live session."""
    import os

    from stockmind import migrate
    from stockmind.db import local_dsn
    from stockmind.platform.postgres_cluster import LocalCluster, free_port
    from stockmind.quotes import poll_quotes
    from stockmind.settings import Settings

    home = tmp_path_factory.mktemp("restart")
    os.chmod(home, 0o755)
    for parent in home.parents:
        if str(parent).startswith("/tmp/pytest-of"):
            os.chmod(parent, 0o755)
    settings = Settings(home=home, pg_port=free_port(56800))
    cluster = LocalCluster(settings)
    cluster.up()
    dsn = local_dsn(settings, "stockmind")
    try:
        migrate.upgrade(dsn)
        refresh_profiles(["AAPL"], SampleProvider(), dsn=dsn)
        run_dbt(dsn, "run", "--select", "+dim_symbols")
        with live_api(dsn) as base:
            ws = open_ws(base)
            subscribe(ws, "AAPL")
            assert health(base)["realtime"]["listener"] == "listening"
            cluster.stop()
            cluster.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                realtime = health(base)["realtime"]  # the pool heals too: no 500 here
                if realtime["listener"] == "listening" and realtime["reconnects"] >= 1:
                    break
                time.sleep(0.5)
            assert realtime["reconnects"] >= 1 and realtime["lastError"], realtime
            at = dt.datetime(2024, 3, 4, 15, 0, tzinfo=dt.UTC)
            poll_quotes(["AAPL"], SampleProvider(), at, dsn=dsn)
            update = recv(ws, 10)
            assert update["type"] == "stock_update" and update["data"]["symbol"] == "AAPL"
            ws.close()
    finally:
        cluster.stop()
