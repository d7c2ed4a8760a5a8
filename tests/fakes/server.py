"""The loopback HTTP server under the fakes of outside APIs: keep-alive like the real services,
no Nagle delay, every request handed to the fake's `_handle(handler)`, and connections tracked so a
test can drop them all (a connection reset mid-request)."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class Handles(Protocol):
    def _handle(self, handler: Any) -> None: ...


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs
    timeout = 30  # idle keep-alive connections give their thread back eventually
    server: Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus the
        # client's delayed ACK would add ~40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _any(self) -> None:
        self.server.api._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # keep test output quiet; the request log is on the API object


class Server(ThreadingHTTPServer):
    """Serves `api` on 127.0.0.1 at an OS-assigned port."""

    daemon_threads = True

    def __init__(self, api: Handles) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (or stop() cutting a connection) is not an error.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def drop_connections(self) -> None:
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
