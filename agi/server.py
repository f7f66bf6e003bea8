"""The FastAGI server: a long-running process that serves every call's AGI session.

One thread per call (pyst2 is blocking; a call spends its life waiting on Asterisk), so one
call's exception or hang-up cannot touch another. Stopping is graceful: stop accepting, let
calls in progress finish (bounded by `drain_timeout_s`), then close.
"""

from __future__ import annotations

import logging
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from types import FrameType

from agi.channel import open_socket_streams
from agi.dispatch import SessionReport, run_session
from agi.routes import Route

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4573
# Upper bound on one AGI reply; real commands (prompt playback, waits) finish well within it.
DEFAULT_IDLE_TIMEOUT_S = 600.0
# Asterisk sends the environment at once; a connection silent this long is not a call.
ENVIRONMENT_TIMEOUT_S = 10.0
# Connections the kernel queues while the server is busy starting threads: a burst of calls
# must not wait for SYN retries (with Python's default of 5, 24 of 150 waited ~1 s).
DEFAULT_BACKLOG = 512
# Calls served at once; beyond it a connection is closed at once, and Asterisk's failure
# path hands that caller to a human rather than the host running out of threads.
DEFAULT_MAX_CALLS = 2000

SessionObserver = Callable[[SessionReport], None]


class _CallHandler(socketserver.BaseRequestHandler):
    server: FastAgiServer

    def handle(self) -> None:
        self.server.run_call(self.request)


class FastAgiServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True  # we join calls ourselves, with a deadline, in drain()
    block_on_close = False

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                 routes: Mapping[str, Route],
                 observer: SessionObserver | None = None,
                 idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                 environment_timeout_s: float = ENVIRONMENT_TIMEOUT_S,
                 backlog: int = DEFAULT_BACKLOG, max_calls: int = DEFAULT_MAX_CALLS) -> None:
        self.request_queue_size = backlog  # read by server_activate's listen()
        super().__init__((host, port), _CallHandler)
        self.routes = routes
        self.observer = observer
        self.idle_timeout_s = idle_timeout_s
        self.environment_timeout_s = environment_timeout_s
        self.max_calls = max_calls
        self.refused = 0  # connections closed because max_calls were in progress
        self._active: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._serving = threading.Event()
        self._stopping = False

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def active_calls(self) -> int:
        with self._lock:
            return len(self._active)

    def verify_request(self, request: socket.socket | tuple[bytes, socket.socket],
                       client_address: object) -> bool:
        if self._stopping:
            return False
        if self.active_calls >= self.max_calls:
            self.refused += 1
            log.error("%d calls in progress (the limit): connection refused; Asterisk sends "
                      "the caller to the fallback queue", self.max_calls)
            return False
        return True

    def run_call(self, sock: socket.socket) -> None:
        me = threading.current_thread()
        with self._lock:
            self._active.add(me)
        try:
            sock.settimeout(self.environment_timeout_s)
            reader, writer = open_socket_streams(sock)
            report = run_session(reader, writer, self.routes,
                                 on_environment=lambda: sock.settimeout(self.idle_timeout_s))
            self._notify(report)
        finally:
            with self._lock:
                self._active.discard(me)

    def _notify(self, report: SessionReport) -> None:
        if self.observer is None:
            return
        try:
            self.observer(report)
        except Exception:  # noqa: BLE001 - an observer bug must not break the call
            log.exception("session observer failed")

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self._serving.set()
        super().serve_forever(poll_interval)

    def wait_serving(self, timeout_s: float = 5.0) -> bool:
        return self._serving.wait(timeout_s)

    def stop(self, drain_timeout_s: float = 60.0) -> int:
        """Stop accepting, wait for calls in progress, close. Returns calls cut at the deadline.
        Call from any thread except the one running serve_forever."""
        self._stopping = True
        if self._serving.is_set():
            self.shutdown()
        # Close the listening socket first: new calls get "connection refused" at once and
        # Asterisk sends them to the fallback context instead of waiting on us.
        self.server_close()
        remaining = self._drain(drain_timeout_s)
        if remaining:
            log.warning("stopped with %d call(s) still in progress", remaining)
        return remaining

    def _drain(self, drain_timeout_s: float) -> int:
        deadline = time.monotonic() + drain_timeout_s
        while True:
            with self._lock:
                active = list(self._active)
            if not active:
                return 0
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return len(active)
            active[0].join(min(left_s, 0.5))


def serve(routes: Mapping[str, Route], host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
          drain_timeout_s: float = 60.0, on_reload: Callable[[], object] | None = None,
          backlog: int = DEFAULT_BACKLOG, max_calls: int = DEFAULT_MAX_CALLS) -> None:
    """Run the server in this (main) thread until SIGTERM or SIGINT; SIGHUP calls
    `on_reload` (menus are re-read; an invalid edit is refused and the old menus stay)."""
    server = FastAgiServer(host, port, routes=routes, backlog=backlog, max_calls=max_calls)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: no new calls; finishing %d in progress", signum,
                 server.active_calls)
        # shutdown() waits for serve_forever, which runs in this very thread: do it elsewhere.
        threading.Thread(target=server.shutdown, name="fastagi-stop", daemon=True).start()

    def request_reload(_signum: int, _frame: FrameType | None) -> None:
        if on_reload is not None:
            threading.Thread(target=on_reload, name="menu-reload", daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, request_reload)
    log.info("FastAGI listening on %s:%d", host, server.port)
    server.serve_forever()
    server.stop(drain_timeout_s)
    log.info("FastAGI stopped")
