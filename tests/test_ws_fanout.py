"""The hub's fan-out without a server: an update is framed once and the same bytes go to
every subscriber; a client's waiting frames leave in gathered writes, whole and in
order, through a kernel buffer that keeps filling up; a client too slow for its bound is
dropped with a clean close after the frame it had begun."""

import json
import socket

import pytest
import wsproto.events as wse
from stockmind import events
from stockmind_api.realtime.client import MAX_GATHER, TOO_SLOW, Client, text_frame
from stockmind_api.realtime.hub import Hub
from wsproto import ConnectionType, WSConnection


def open_pair() -> tuple[WSConnection, WSConnection]:
    """A server and a client wsproto connection past the handshake, as ``views`` makes."""
    server, client = WSConnection(ConnectionType.SERVER), WSConnection(ConnectionType.CLIENT)
    server.receive_data(client.send(wse.Request(host="localhost", target="/ws/market")))
    assert isinstance(next(server.events()), wse.Request)
    client.receive_data(server.send(wse.AcceptConnection()))
    assert isinstance(next(client.events()), wse.AcceptConnection)
    return server, client


def small_socketpair() -> tuple[socket.socket, socket.socket]:
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return ours, peer


def read_events(peer: socket.socket, conn: WSConnection) -> list:
    peer.setblocking(False)
    while True:
        try:
            data = peer.recv(65536)
        except BlockingIOError:
            break
        if not data:
            break
        conn.receive_data(data)
    return list(conn.events())


def whole_messages(parts: list) -> list[str]:
    messages, current = [], ""
    for event in parts:
        if isinstance(event, wse.TextMessage):
            current += event.data
            if event.message_finished:
                messages.append(current)
                current = ""
    return messages


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_shared_frame_is_the_frame_wsproto_writes(size):
    text = ("é" * (size // 2)) + ("a" * (size % 2))  # multi-byte characters count in bytes
    server, _ = open_pair()
    assert text_frame(text) == bytes(server.send(wse.TextMessage(data=text)))


def test_waiting_frames_leave_whole_and_in_order_through_a_full_buffer():
    ours, peer = small_socketpair()
    server, client_conn = open_pair()
    client = Client(ours, server, "127.0.0.1", max_pending=10_000, send_timeout=10)
    texts = [json.dumps({"n": n, "pad": "x" * (n % 300)}) for n in range(3 * MAX_GATHER + 7)]
    assert client.send_frames([text_frame(t) for t in texts[:100]])
    assert client.send(texts[100:])  # replies take the same path
    assert client.backlogged  # the kernel took only part: the rest waits
    parts = []  # wsproto hands over a frame in pieces as they arrive
    for _ in range(10_000):
        parts += read_events(peer, client_conn)
        if not client.backlogged:
            break
        client.flush()  # what the reactor does when the socket is writable
    parts += read_events(peer, client_conn)
    assert whole_messages(parts) == texts


def test_a_client_over_its_bound_is_dropped_after_the_frame_it_began():
    ours, peer = small_socketpair()
    server, client_conn = open_pair()
    client = Client(ours, server, "127.0.0.1", max_pending=8, send_timeout=10)
    frame = text_frame(json.dumps({"pad": "y" * 1000}))
    sent = 0
    while client.send_frames([frame, frame]):
        sent += 2
        assert sent < 10_000
    assert client.closing and client.drop_reason.startswith("too slow")
    stream = []  # the peer reads again: what was waiting, then the close frame
    for _ in range(1000):
        stream += read_events(peer, client_conn)
        if any(isinstance(e, wse.CloseConnection) for e in stream):
            break
        client.flush()  # what the reactor does when the socket is writable
    messages = whole_messages(stream)
    assert messages and all(m == json.dumps({"pad": "y" * 1000}) for m in messages)  # none torn
    close = next(e for e in stream if isinstance(e, wse.CloseConnection))
    assert close.code == TOO_SLOW and "too slow" in close.reason


class Recorder:
    """A client as the hub sees one: its symbols, and what it was handed."""

    def __init__(self, accept: bool = True):
        self.symbols: set[str] = set()
        self.frames: list[bytes] = []
        self.accept = accept
        self.drop_reason = None if accept else "too slow: 257 messages waiting"

    def send_frames(self, frames):
        self.frames += frames
        return self.accept


def test_the_hub_frames_an_update_once_for_all_its_subscribers():
    hub = Hub("postgresql://unused")  # no listener: dispatch is called directly
    a, b, slow, other = Recorder(), Recorder(), Recorder(accept=False), Recorder()
    for client in (a, b, slow):
        hub.subscribe(client, "AAPL")
    hub.subscribe(other, "MSFT")
    items = [{"symbol": "AAPL", "price": 1.5}, {"symbol": "TSLA", "price": 2.0}]
    (payload,) = events.encode(events.STOCK_UPDATE, items)
    assert hub.dispatch(payload) == 2  # a and b; slow was dropped
    assert a.frames == [text_frame(events.client_message(events.STOCK_UPDATE, items[0]))]
    assert a.frames[0] is b.frames[0]  # one frame, shared
    assert other.frames == []
    assert hub.status()["dropped"] == 1 and hub.status()["delivered"] == 2
    assert slow not in hub._subscribers["AAPL"]  # a dropped client gets nothing more
