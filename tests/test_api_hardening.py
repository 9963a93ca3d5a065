"""The API against a hostile client, on the real server: gunicorn with two workers (the
``make up`` command), a real Redis holding the counters, real sockets. Each test calls
from its own loopback address (127.0.0.x), so budgets per address stay apart."""

import concurrent.futures
import contextlib
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import wsproto
import wsproto.events as wse
from conftest import live_api, run_dbt
from simple_websocket import Client
from test_api_auth import PASSWORD

pytestmark = pytest.mark.slow
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


@pytest.fixture(scope="module")
def server(module_warehouse, redis_url):
    run_dbt(module_warehouse, "run", "--select", "+dim_symbols")  # the symbol search's mart
    with live_api(module_warehouse, workers=2, API_RATE_LIMIT_STORAGE=redis_url, **LIMITS) as base:
        yield base, module_warehouse, redis_url


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


def test_idle_websockets_never_starve_http_and_the_cap_refuses_cleanly(server):
    base, _, _ = server
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    sockets = [RawSocket(base, ip="127.0.0.50") for _ in range(1000)]
    try:
        assert all(isinstance(s.handshake, wse.AcceptConnection) for s in sockets)
        time.sleep(1.0)  # the refusals' close frames are on their way
        for s in sockets:
            s.read(0.001)
        refused = [s.close_event() for s in sockets if s.close_event() is not None]
        assert len(refused) == 400  # 600 allowed per address, across both workers
        assert {(e.code, e.reason) for e in refused} == {
            (4429, "too many connections from 127.0.0.50 (limit 600)")
        }
        # 600 idle sockets are open: far more than the 2 x 64 request threads
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            status, _, _ = call(base, "GET", "/api/health", ip="127.0.0.51")
            timings.append(time.perf_counter() - started)
            assert status == 200
        p99 = statistics.quantiles(timings, n=100)[98]
        assert p99 < 0.1, f"HTTP p99 {p99 * 1000:.0f} ms with 600 idle WebSockets open"
    finally:
        for s in sockets:
            s.sock.close()


def test_a_user_has_a_cap_of_their_own(server):
    base, _, _ = server
    token = register(base, "wscap@example.com", "127.0.0.52")["accessToken"]
    sockets = [RawSocket(base, ip="127.0.0.52") for _ in range(3)]
    for s in sockets:  # one after the other: the third is the one past the cap
        s.send({"type": "auth", "token": token})
        reply = json.loads(s.wait_for(wse.TextMessage).data)
    assert reply["type"] == "error" and "too many open connections" in reply["message"]
    closed = sockets[2].wait_for(wse.CloseConnection)
    assert closed is not None and closed.code == 4429
    for s in sockets[:2]:
        s.send({"type": "ping"})
        assert json.loads(s.wait_for(wse.TextMessage).data) == {"type": "pong"}
    for s in sockets:
        s.sock.close()


def test_junk_keys_and_tokens_buy_no_budget_and_429_says_when(server):
    base, _, _ = server
    remaining = []
    for n in range(40):
        junk = {"X-API-Key": f"junk-{n}"} if n % 2 else bearer(f"junk.{n}.token")
        status, headers, _ = call(base, "GET", "/api/market/symbols", headers=junk, ip="127.0.0.60")
        assert status == 200
        assert headers["Retry-After"] is None  # only a 429 says when to retry
        remaining.append(int(headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(39, -1, -1))  # one budget: the address's
    status, headers, body = call(
        base, "GET", "/api/market/symbols", headers={"X-API-Key": "another"}, ip="127.0.0.60"
    )
    assert status == 429 and body["code"] == 429 and body["success"] is False
    assert body["data"]["retryAfter"] == int(headers["Retry-After"]) > 0
    assert "40 per 1 hour" in body["message"]


def test_password_guessing_gets_429_not_more_guesses(server):
    base, _, _ = server
    register(base, "victim@example.com", "127.0.0.61")
    statuses = []
    for n in range(150):
        status, headers, _ = call(
            base,
            "POST",
            "/api/auth/login",
            {"email": "victim@example.com", "password": f"Guess-{n:04d}xY"},
            headers={"X-API-Key": f"junk-{n}"},
            ip="127.0.0.62",
        )
        statuses.append(status)
        if status == 429:
            assert int(headers["Retry-After"]) > 0
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # locked for now, even with the right password, from anywhere, however it is spelled
    # ("vİctim": PostgreSQL's lower() finds the account, Python's lower() differs)
    for spelling in ("VICTIM@example.com", "v\u0130ctim@example.com"):
        status, _, body = call(
            base,
            "POST",
            "/api/auth/login",
            {"email": spelling, "password": PASSWORD},
            ip="127.0.0.63",
        )
        assert status == 429 and "locked" in body["message"], (spelling, body)


def test_a_successful_login_resets_the_failure_count(server):
    base, _, _ = server
    register(base, "forgetful@example.com", "127.0.0.64")

    def login(password):
        body = {"email": "forgetful@example.com", "password": password}
        return call(base, "POST", "/api/auth/login", body, ip="127.0.0.64")[0]

    assert [login("Wrong-Pass-01") for _ in range(3)] == [401] * 3
    assert login(PASSWORD) == 200
    assert [login("Wrong-Pass-02") for _ in range(6)] == [401] * 5 + [429]


def test_one_budget_across_workers_and_restarts(server, module_warehouse, redis_url):
    base, _, _ = server
    token = register(base, "budget@example.com", "127.0.0.65")["accessToken"]

    def remaining(url):
        status, headers, _ = call(url, "GET", "/api/auth/profile", headers=bearer(token))
        assert status == 200
        return int(headers["X-RateLimit-Remaining"])

    seen = [remaining(base) for _ in range(30)]  # new connections: both workers serve
    assert seen == list(range(59, 29, -1))
    with live_api(module_warehouse, API_RATE_LIMIT_STORAGE=redis_url, **LIMITS) as restarted:
        assert remaining(restarted) == 29  # a restart forgets nothing


def test_concurrent_refreshes_have_one_winner_and_reuse_ends_the_family(server):
    base, _, _ = server
    tokens = register(base, "racer@example.com", "127.0.0.66")

    def refresh(token):
        return call(base, "POST", "/api/auth/refresh", headers=bearer(token), ip="127.0.0.66")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(refresh, [tokens["refreshToken"]] * 8))
    assert sorted(status for status, _, _ in results) == [200] + [401] * 7
    winner = next(body for status, _, body in results if status == 200)["data"]
    # the losers presented a rotated token: the family is revoked, the winner's pair too
    assert call(base, "GET", "/api/auth/profile", headers=bearer(winner["accessToken"]))[0] == 401
    assert refresh(winner["refreshToken"])[0] == 401

    tokens = register(base, "replay@example.com", "127.0.0.66")
    status, _, fresh = refresh(tokens["refreshToken"])
    assert status == 200
    status, _, replay = refresh(tokens["refreshToken"])  # a stolen copy, replayed
    assert status == 401 and "already used" in replay["message"]
    assert refresh(fresh["data"]["refreshToken"])[0] == 401
    profile = call(base, "GET", "/api/auth/profile", headers=bearer(fresh["data"]["accessToken"]))
    assert profile[0] == 401


def test_logout_ends_the_session_and_the_refresh_token_it_names(server):
    base, _, _ = server
    first = register(base, "leaver@example.com", "127.0.0.67")
    assert call(base, "POST", "/api/auth/logout", headers=bearer(first["accessToken"]))[0] == 200
    assert call(base, "POST", "/api/auth/refresh", headers=bearer(first["refreshToken"]))[0] == 401

    login = {"email": "leaver@example.com", "password": PASSWORD}
    a = call(base, "POST", "/api/auth/login", login, ip="127.0.0.67")[2]["data"]
    b = call(base, "POST", "/api/auth/login", login, ip="127.0.0.67")[2]["data"]
    status, _, _ = call(
        base,
        "POST",
        "/api/auth/logout",
        {"refreshToken": b["refreshToken"]},
        headers=bearer(a["accessToken"]),
    )
    assert status == 200
    for token in (b["refreshToken"],):
        assert call(base, "POST", "/api/auth/refresh", headers=bearer(token))[0] == 401
    for token in (a["accessToken"], b["accessToken"]):
        assert call(base, "GET", "/api/auth/profile", headers=bearer(token))[0] == 401


def test_login_takes_as_long_for_unknown_e_mails(server):
    base, _, _ = server
    register(base, "timed@example.com", "127.0.0.68")

    def timed(email):
        started = time.perf_counter()
        body = {"email": email, "password": "Wrong-Pass-77"}
        assert call(base, "POST", "/api/auth/login", body, ip="127.0.0.68")[0] == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for n in range(4):  # under the account's lock threshold
        known.append(timed("timed@example.com"))
        unknown.append(timed(f"nobody{n}@example.com"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, f"unknown/known login time {ratio:.2f}"


def test_the_tier_is_an_operators_to_set(server):
    base, dsn, _ = server
    token = register(base, "tier@example.com", "127.0.0.69")["accessToken"]
    status, _, body = call(
        base, "PATCH", "/api/auth/profile", {"subscriptionTier": "pro"}, bearer(token)
    )
    assert status == 422 and "subscriptionTier" in body["errors"]
    stockmind = str(Path(sys.executable).parent / "stockmind")
    done = subprocess.run(
        [stockmind, "users", "set-tier", "tier@example.com", "pro"],
        env={**os.environ, "DATABASE_URL": dsn},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "basic -> pro" in done.stdout, done.stderr
    status, headers, body = call(base, "GET", "/api/auth/profile", headers=bearer(token))
    assert body["data"]["subscriptionTier"] == "pro" and headers["X-RateLimit-Limit"] == "200"


def test_cors_answers_listed_origins_only_and_preflights_are_free(server):
    base, _, _ = server
    ip = "127.0.0.70"
    for origin in ("https://evil.example", "null"):
        _, headers, _ = call(base, "GET", "/api/health", headers={"Origin": origin}, ip=ip)
        assert headers["Access-Control-Allow-Origin"] is None
    _, headers, _ = call(base, "GET", "/api/health", headers={"Origin": "http://app.example"})
    assert headers["Access-Control-Allow-Origin"] == "http://app.example"
    before = int(call(base, "GET", "/api/market/symbols", ip=ip)[1]["X-RateLimit-Remaining"])
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "GET"}
    for _ in range(5):
        assert call(base, "OPTIONS", "/api/market/symbols", headers=preflight, ip=ip)[0] == 200
    after = int(call(base, "GET", "/api/market/symbols", ip=ip)[1]["X-RateLimit-Remaining"])
    assert after == before - 1
    page = RawSocket(base, origin="http://app.example")
    assert isinstance(page.handshake, wse.AcceptConnection)
    page.sock.close()
    rejected = RawSocket(base, origin="https://evil.example").handshake
    assert isinstance(rejected, wse.RejectConnection) and rejected.status_code == 403


def test_a_token_in_the_websocket_url_is_refused(server):
    base, _, _ = server
    client = RawSocket(base, path="/ws/market?token=garbage")
    assert isinstance(client.handshake, wse.RejectConnection)
    assert client.handshake.status_code == 400
    body = b""
    while (chunk := client.wait_for(wse.RejectData, timeout=2)) is not None:
        body += chunk.data
        if chunk.body_finished:
            break
    assert "first message" in json.loads(body)["message"]


def test_health_is_never_limited_and_metrics_are_for_scrapers(server):
    base, _, _ = server
    for _ in range(60):  # past the anonymous budget of 40
        assert call(base, "GET", "/api/health", ip="127.0.0.71")[0] == 200
    assert call(base, "GET", "/metrics")[0] == 200  # loopback: allowed by default
    status, _, body = call(base, "GET", "/metrics", ip="127.0.0.72")
    assert status == 403 and body["code"] == 403
    token = bearer(LIMITS["API_METRICS_TOKEN"])
    assert call(base, "GET", "/metrics", headers=token, ip="127.0.0.72")[0] == 200


def test_the_server_pings_and_cuts_a_peer_that_never_answers(module_warehouse):
    with live_api(module_warehouse, WS_PING_SECONDS="1", WS_IDLE_SECONDS="60") as base:
        silent = RawSocket(base)
        alive = Client.connect(base.replace("http://", "ws://") + "/ws/market")  # answers
        assert silent.wait_for(wse.Ping, timeout=3) is not None
        closed = silent.wait_for(wse.CloseConnection, timeout=5)
        assert closed is not None and closed.code == 4408
        alive.send(json.dumps({"type": "ping"}))
        assert json.loads(alive.receive(timeout=5)) == {"type": "pong"}
        time.sleep(2.5)  # several ping rounds later it is still open
        alive.send(json.dumps({"type": "ping"}))
        assert json.loads(alive.receive(timeout=5)) == {"type": "pong"}
        alive.close()
        silent.sock.close()


def test_reactor_threads_do_not_grow_with_sockets(module_warehouse):
    """The thread count of a worker with 300 open sockets is that of a worker with none."""
    with live_api(module_warehouse, WS_MAX_PER_IP="1000") as base:
        pid = _worker_pid(base)
        before = _threads(pid)
        sockets = [RawSocket(base, ip="127.0.0.80") for _ in range(300)]
        assert all(isinstance(s.handshake, wse.AcceptConnection) for s in sockets)
        time.sleep(0.5)
        assert _threads(pid) <= before + 8  # the reactor, session pool, listener at most
        for s in sockets:
            s.sock.close()


def _worker_pid(base):
    """The gunicorn worker: the child of the master serving ``base``."""
    import psutil

    port = int(base.rsplit(":", 1)[1])
    listening = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr.port == port and c.status == "LISTEN"
    }
    for pid in listening:  # master and worker share the socket; the worker's title says so
        if "worker" in " ".join(psutil.Process(pid).cmdline()):
            return pid
    raise AssertionError(f"no gunicorn worker on port {port}")


def _threads(pid):
    import psutil

    return psutil.Process(pid).num_threads()


MASK = b"\x00\x00\x00\x00"  # a client's frames are masked; a zero mask keeps bytes as they are


def test_a_protocol_error_closes_with_1002_and_stops_reading(server):
    base, _, _ = server
    client = RawSocket(base, ip="127.0.0.53")
    client.sock.sendall(b"\xf1\x80" + MASK)  # reserved bits set: not a frame we can parse
    sent = 0
    with pytest.raises(OSError):  # the server cuts a peer that keeps sending
        while sent < 50_000_000:
            client.sock.sendall(b"\0" * 65536)
            sent += 65536
    assert sent < 5_000_000, f"{sent:,} bytes were taken after the protocol error"
    closed = client.close_event() or client.wait_for(wse.CloseConnection, timeout=2)
    assert closed is None or closed.code == 1002  # said, unless the reset overtook it


def test_pings_it_never_reads_the_answers_to_get_it_dropped(server):
    base, _, _ = server
    client = RawSocket(base, ip="127.0.0.54")
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    started = time.monotonic()
    with pytest.raises(OSError):
        while time.monotonic() - started < 30:
            client.sock.sendall((b"\x89\xfd" + MASK + b"p" * 125) * 500)
    assert time.monotonic() - started < 30  # dropped once its pongs pile up


def test_a_message_in_endless_empty_fragments_is_refused(server):
    base, _, _ = server
    client = RawSocket(base, ip="127.0.0.55")
    client.sock.sendall(b"\x01\x80" + MASK + (b"\x00\x80" + MASK) * 100)
    closed = client.wait_for(wse.CloseConnection, timeout=5)
    assert closed is not None and closed.code == 1009


def test_a_malformed_handshake_key_is_a_400(server):
    base, _, _ = server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), 5) as sock:
        sock.sendall(
            b"GET /ws/market HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
            answer.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0]
        ):  # the whole response: the body may come in a segment of its own
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b"Sec-WebSocket-Key" in answer


def test_half_sent_requests_cannot_take_every_thread(server):
    base, _, _ = server
    host, port = base.removeprefix("http://").split(":")
    slow = []
    for _ in range(300):  # slowloris: a request line, then nothing
        sock = socket.create_connection((host, int(port)), 5, source_address=("127.0.0.90", 0))
        sock.sendall(b"GET /api/health HTTP/1.1\r\n")
        slow.append(sock)
    try:
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            assert call(base, "GET", "/api/health", ip="127.0.0.91")[0] == 200
            timings.append(time.perf_counter() - started)
        assert max(timings) < 1.0, f"slowest health check {max(timings):.2f} s"
        refused = 0
        for sock in slow:
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError, OSError):
                refused += sock.recv(4096).startswith(b"HTTP/1.1 429")
        assert refused >= 300 - 2 * 16  # 16 per address per worker may wait
    finally:
        for sock in slow:
            sock.close()
