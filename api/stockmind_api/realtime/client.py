"""One open WebSocket after its handshake: its socket, its protocol state, its backlog.

Nobody ever blocks on a client. Whoever has something to say (the hub's listener thread
for updates, a session thread for replies, the reactor for pongs and closes) calls
``send``/``close``: frames are written to the non-blocking socket at once, as far as the
kernel takes them, and the rest waits in ``pending`` (a bounded number of frames) until
the reactor sees the socket writable. A client whose backlog passes the bound is dropped:
its partly written frame is completed, a close frame (1008, the reason) follows, and if
even that is not written within ``send_timeout`` the reactor cuts the connection.

Fan-out costs little per client: the hub frames each update once (``text_frame``) and
hands the same bytes to every subscriber (``send_frames``), and a client's waiting frames
leave in one gathered write (``sendmsg``) rather than one system call each.

Incoming bytes are fed to wsproto by the reactor (``receive``), which answers pings and
close frames here and hands complete text messages back.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
import uuid
from collections.abc import Callable

from wsproto import ConnectionState, WSConnection
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    TextMessage,
)
from wsproto.utilities import ProtocolError

TOO_SLOW = 1008
TOO_BIG = 1009
PROTOCOL_ERROR = 1002
MAX_FRAGMENTS = 64  # frames one message may arrive in (empty ones count too)
MAX_BYTES_WHILE_CLOSING = 65536  # read after our close frame, waiting for the peer's
MAX_GATHER = 64  # frames handed to the kernel in one sendmsg


def text_frame(text: str) -> bytes:
    """One unfragmented text message as a server sends it (RFC 6455 §5.2: FIN, opcode 1,
    no mask): the same bytes wsproto writes for any of our connections, since the
    handshake (``views.handshake``) accepts no extension, so they can be shared."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65536:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class Client:
    def __init__(
        self,
        sock,
        conn: WSConnection,
        address: str,
        max_pending: int,
        send_timeout: float,
        max_message_bytes: int = 4096,
    ):
        self.sock, self.conn, self.address = sock, conn, address
        self.id = uuid.uuid4().hex
        self.max_pending = max_pending
        self.send_timeout = send_timeout
        self.max_message_bytes = max_message_bytes
        self.user_id: int | None = None
        self.symbols: set[str] = set()
        self.session = None  # what the connection has said so far (session.Session)
        self.inbox: collections.deque[str | bytes] = collections.deque()  # for the session
        self.handling = False  # a session thread is working through the inbox
        self.drop_reason: str | None = None
        self.close_code: int | None = None  # set once our close frame is queued
        self.close_deadline = 0.0
        self.dead = False  # the socket failed or the peer hung up: nothing more goes out
        self.released = False  # the reactor has let it go (and its caps)
        now = time.monotonic()
        self.last_heard = now  # any frame, pongs included: is the peer alive?
        self.last_message = now  # an application message: is the connection in use?
        self.ping_sent: float | None = None
        self.on_backlog: Callable[[Client], None] = lambda client: None
        self._partial: list[str | bytes] = []
        self._partial_size = 0
        self._read_while_closing = 0
        self._pending: collections.deque[memoryview] = collections.deque()
        self._lock = threading.Lock()
        sock.setblocking(False)

    @property
    def backlogged(self) -> bool:
        return bool(self._pending)

    @property
    def closing(self) -> bool:
        return self.close_code is not None or self.dead

    @property
    def finished(self) -> bool:
        """Nothing left to do but release the socket."""
        if self.dead:
            return True
        if self.close_code is None or self._pending:
            return False
        # both close frames exchanged (else the reactor cuts it at close_deadline)
        return self.conn.state == ConnectionState.CLOSED

    # -- outgoing -----------------------------------------------------------------------
    def send(self, texts: list[str]) -> bool:
        """Frame and write messages now; False once the client is dropped or closing."""
        return self.send_frames([text_frame(text) for text in texts])

    def send_frames(self, frames: list[bytes]) -> bool:
        """Write text frames made by ``text_frame`` (shared by many clients: never
        modified here) now; False once the client is dropped or closing."""
        with self._lock:
            if self.closing:
                return False
            self._pending.extend(map(memoryview, frames))
            self._flush()
            if len(self._pending) > self.max_pending:
                self._drop(f"too slow: {len(self._pending)} messages waiting")
                return False
        return True

    def ping(self) -> None:
        with self._lock:
            if not self.closing:
                self.ping_sent = time.monotonic()
                self._pending.append(memoryview(self.conn.send(Ping())))
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Queue a close frame after what is pending; the reactor finishes the rest."""
        with self._lock:
            self._close(code, reason)

    def _flush(self) -> None:
        """Write pending frames until the kernel pushes back (caller holds the lock):
        one gathered write for what is waiting, not one system call per frame."""
        pending = self._pending
        while pending:
            batch = list(itertools.islice(pending, MAX_GATHER))
            try:
                sent = self.sock.send(batch[0]) if len(batch) == 1 else self.sock.sendmsg(batch)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                pending.clear()
                self.dead = True
                return
            whole = sent == sum(map(len, batch))
            while pending and sent >= len(pending[0]):
                sent -= len(pending.popleft())
            if sent:  # the kernel took part of a frame: its rest goes first next time
                pending[0] = pending[0][sent:]
            if not whole:  # the kernel's buffer is full: wait until it drains
                break
        if self._pending:
            self.on_backlog(self)

    def _drop(self, reason: str) -> None:
        self.drop_reason = reason
        if self._pending:  # keep the frame already begun; the rest is never sent
            head = self._pending.popleft()
            self._pending.clear()
            self._pending.append(head)
        self._close(TOO_SLOW, reason)

    def _close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.close_code = code
        self.close_deadline = time.monotonic() + self.send_timeout
        if self.conn.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            frame = self.conn.send(CloseConnection(code=code, reason=reason[:120]))
            self._pending.append(memoryview(frame))
        self._flush()

    # -- incoming -----------------------------------------------------------------------
    def receive(self, data: bytes) -> list[str | bytes]:
        """Feed bytes from the socket; returns the complete messages they finish.

        Once closing, only the peer's close frame is of interest: what comes meanwhile is
        bounded (a peer that keeps sending after a protocol error would otherwise pile up
        in wsproto's buffer, which stops parsing at the error)."""
        complete: list[str | bytes] = []
        with self._lock:
            self.last_heard = time.monotonic()
            if self.closing:
                self._read_while_closing += len(data)
                if self._read_while_closing > MAX_BYTES_WHILE_CLOSING:
                    self._pending.clear()
                    self.dead = True  # it will not stop: cut it
                    return []
            try:
                self.conn.receive_data(data)
                for event in self.conn.events():
                    if isinstance(event, TextMessage | BytesMessage):
                        message = self._assemble(event)
                        if message is not None:
                            complete.append(message)
                    elif isinstance(event, Ping):
                        self._pending.append(memoryview(self.conn.send(event.response())))
                        if len(self._pending) > self.max_pending:  # pings it never reads
                            self._drop(f"too slow: {len(self._pending)} frames waiting")
                            break
                    elif isinstance(event, Pong):
                        self.ping_sent = None
                    elif isinstance(event, CloseConnection):
                        self._answer_close(event)
                        break  # nothing after a close counts
            except ProtocolError as exc:
                self._close(PROTOCOL_ERROR, f"protocol error: {exc}")
            self._flush()
        if complete:
            self.last_message = time.monotonic()
        return [] if self.closing else complete

    def hung_up(self) -> None:
        """The peer closed its end (EOF) or the socket failed."""
        with self._lock:
            self._pending.clear()
            self.dead = True

    def _assemble(self, event: TextMessage | BytesMessage) -> str | bytes | None:
        self._partial.append(event.data)
        self._partial_size += len(event.data)
        if self._partial_size > self.max_message_bytes or len(self._partial) > MAX_FRAGMENTS:
            self._partial, self._partial_size = [], 0
            self._close(
                TOO_BIG,
                f"messages are limited to {self.max_message_bytes} bytes in {MAX_FRAGMENTS} frames",
            )
            return None
        if not event.message_finished:
            return None
        parts, self._partial, self._partial_size = self._partial, [], 0
        return parts[0][:0].join(parts)

    def _answer_close(self, event: CloseConnection) -> None:
        if self.conn.state == ConnectionState.OPEN:
            # not the peer's close: wsproto's word for a frame it could not parse (it
            # stops parsing there); say so with our own close frame
            self._close(event.code or PROTOCOL_ERROR, f"protocol error: {event.reason}")
        elif self.close_code is None:  # the peer began: answer, then we are done
            self.close_code = event.code or 1000
            self.close_deadline = time.monotonic() + self.send_timeout
            if self.conn.state == ConnectionState.REMOTE_CLOSING:
                self._pending.append(memoryview(self.conn.send(event.response())))
