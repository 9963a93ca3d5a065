"""WebSockets against a hostile client, on the real server (``hostile.py``): idle sockets
never starve HTTP, connection caps per address and per user, pings that go unanswered,
protocol errors, endless fragments and malformed handshakes."""

import json
import resource
import socket
import statistics
import time

import pytest
import wsproto.events as wse
from conftest import live_api
from hostile import RawSocket, call, hostile_server, register
from simple_websocket import Client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(module_warehouse, redis_url):
    with hostile_server(module_warehouse, redis_url) as running:
        yield running


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
