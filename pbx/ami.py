"""A small AMI client over pyst2's Manager: actions one at a time (pyst2 matches responses by
order, not ActionID), events collected into a queue that callers can wait on."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from asterisk.manager import Manager, ManagerException, ManagerSocketException

log = logging.getLogger(__name__)

Event = dict[str, str]
EventMatch = Callable[[Event], bool]


class AmiError(RuntimeError):
    pass


# Read buffer for the AMI stream. pyst2 0.5.1 reads it through an unbuffered socket file, so
# every line is read one byte per recv() call: at a few hundred calls that was most of a
# core in each AMI reader (the records service, the dialler, the benchmarks).
READ_BUFFER_BYTES = 64 * 1024


# pyst2 waits for the greeting and for every response without end: an AMI that accepts the
# connection and says nothing would hang the caller (the console's worker, then its
# shutdown) for good.
CONNECT_TIMEOUT_S = 5.0
RESPONSE_TIMEOUT_S = 10.0


class _AnswerQueue(queue.Queue[Any]):
    """pyst2's response queue, with a deadline on every wait."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            return super().get(block, timeout if timeout is not None else self.timeout_s)
        except queue.Empty as exc:
            raise ManagerSocketException(0, f"no answer from AMI in {self.timeout_s:g} s") \
                from exc


class BufferedManager(Manager):  # type: ignore[misc]
    """pyst2's Manager reading AMI through a buffered socket file, with deadlines on the
    connection, the greeting and every response; otherwise the same."""

    def __init__(self, *args: Any, response_timeout_s: float = RESPONSE_TIMEOUT_S,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._response_queue = _AnswerQueue(response_timeout_s)

    def connect(self, host: str, port: int = 5038) -> Any:
        if self._connected.is_set():
            raise ManagerException("Already connected to manager")
        try:
            raw = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S)
            raw.settimeout(None)  # the reader thread waits for events as long as it takes
            # Writes stay unbuffered in effect: pyst2 flushes after every action.
            self._sock = raw.makefile(mode="rwb", buffering=READ_BUFFER_BYTES)
            raw.close()  # the file keeps the connection open
        except OSError as exc:
            raise ManagerSocketException(exc.errno, exc.strerror) from exc
        self._connected.set()
        self._running.set()
        self.message_thread.start()
        self.event_dispatch_thread.start()
        return self._response_queue.get()  # the greeting


class Ami:
    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 response_timeout_s: float = RESPONSE_TIMEOUT_S) -> None:
        self._address = (host, port)
        self._response_timeout_s = response_timeout_s
        self._credentials = (username, secret)
        self._manager: Any = None
        self._lock = threading.Lock()
        self._events: queue.Queue[Event] = queue.Queue()
        self.history: list[Event] = []

    def __enter__(self) -> Ami:
        self.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def connect(self) -> None:
        manager = BufferedManager(response_timeout_s=self._response_timeout_s)
        try:
            manager.connect(*self._address)
            manager.login(*self._credentials)
        except (ManagerException, OSError) as exc:
            try:
                manager.close()
            except (ManagerException, OSError, ValueError):
                log.debug("closing a half-open AMI connection failed")
            raise AmiError(f"AMI at {self._address[0]}:{self._address[1]}: {exc}") from exc
        manager.register_event("*", self._on_event)
        self._manager = manager

    def close(self) -> None:
        # pyst2 reports a connection Asterisk already closed as ValueError ("I/O operation on
        # closed file") from its log-off.
        if self._manager is not None:
            try:
                self._manager.close()
            except (ManagerException, OSError, ValueError):
                log.debug("AMI close failed; connection already gone")
            self._manager = None

    def _on_event(self, event: Any, _manager: Any) -> None:
        self._events.put(dict(event.headers))

    def action(self, name: str, **headers: str | list[str]) -> Event:
        if self._manager is None:
            raise AmiError("not connected")
        with self._lock:
            try:
                response = self._manager.send_action({"Action": name, **headers})
            except (ManagerException, OSError, ValueError) as exc:
                raise AmiError(f"AMI action {name}: {exc}") from exc
        if response is None:  # pyst2's answer when the connection closed meanwhile
            raise AmiError(f"AMI action {name}: connection closed")
        result = dict(response.headers)
        if result.get("Response") == "Error":
            raise AmiError(f"AMI action {name}: {result.get('Message', 'error')}")
        return result

    def only_events(self, classes: str) -> None:
        """Receive only these event classes ("user,agent"; "off" for none). Asterisk then
        never writes the others to this connection, which at a few hundred calls is most of
        its AMI traffic (every dialplan step and variable) and most of a reader's CPU."""
        self.action("Events", EventMask=classes)

    def action_list(self, name: str, complete: str, timeout_s: float = 10.0,
                    **headers: str) -> list[Event]:
        """An action answered by a list of events ending with `complete` (QueueStatus, ...).
        pyst2 folds such lists into the response when Asterisk says "status will follow";
        other events folded in with them go back to the event stream."""
        if self._manager is None:
            raise AmiError("not connected")
        action_id = uuid.uuid4().hex
        with self._lock:
            try:
                response = self._manager.send_action({"Action": name, "ActionID": action_id,
                                                      **headers})
            except (ManagerException, OSError, ValueError) as exc:
                raise AmiError(f"AMI action {name}: {exc}") from exc
        if response is None:
            raise AmiError(f"AMI action {name}: connection closed")
        found = []
        for block in _blocks(getattr(response, "response", [])):
            if "Event" not in block:
                continue
            if block.get("ActionID") == action_id:
                found.append(block)
            else:
                self._events.put(block)
        if not any(e.get("Event") == complete for e in found):
            self.wait_for(lambda e: e.get("Event") == complete
                          and e.get("ActionID") == action_id, timeout_s)
            found += [e for e in self.drain() if e.get("ActionID") == action_id]
        return found

    def command(self, cli_command: str) -> str:
        """A CLI command's output. Asterisk sends it as `Output:` lines (pyst2 keeps only the
        last as a header), older versions as a data block: both are read from the raw reply."""
        if self._manager is None:
            raise AmiError("not connected")
        with self._lock:
            try:
                response = self._manager.send_action({"Action": "Command",
                                                      "Command": cli_command})
            except (ManagerException, OSError, ValueError) as exc:
                raise AmiError(f"AMI command {cli_command!r}: {exc}") from exc
        if response is None:
            raise AmiError(f"AMI command {cli_command!r}: connection closed")
        raw = [line.rstrip("\r\n") for line in getattr(response, "response", [])]
        output = [line.partition(":")[2][1:] for line in raw if line.startswith("Output:")]
        return "\n".join(output) if output else str(response.data)

    def version(self) -> str:
        return self.action("CoreSettings").get("AsteriskVersion", "unknown")

    def wait_for(self, match: EventMatch, timeout_s: float) -> Event:
        """Return the first event (already received or arriving) that matches."""
        for event in self.history:
            if match(event):
                return event
        deadline = time.monotonic() + timeout_s
        while True:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                raise TimeoutError("no matching AMI event in time")
            try:
                event = self._events.get(timeout=left_s)
            except queue.Empty:
                continue
            self.history.append(event)
            if match(event):
                return event

    def next_event(self, timeout_s: float) -> Event | None:
        """The next event for a long-running consumer (kept out of `history`)."""
        try:
            return self._events.get(timeout=timeout_s)
        except queue.Empty:
            return None

    @property
    def connected(self) -> bool:
        return self._manager is not None and bool(self._manager.connected())

    def drain(self) -> list[Event]:
        """Move every event received so far into `history` and return the history."""
        while True:
            try:
                self.history.append(self._events.get_nowait())
            except queue.Empty:
                return self.history


def _blocks(lines: list[str]) -> list[Event]:
    """AMI messages ("Key: value" lines, blank-line separated) as dicts."""
    blocks: list[Event] = []
    current: Event = {}
    for line in lines:
        text = line.rstrip("\r\n")
        if not text:
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = text.partition(":")
        if sep:
            current.setdefault(key.strip(), value.strip())
    if current:
        blocks.append(current)
    return blocks
