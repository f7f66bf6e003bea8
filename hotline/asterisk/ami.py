"""A small AMI client over pyst2's Manager: actions one at a time (pyst2 matches responses by
order, not ActionID), events collected into a queue that callers can wait on."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from asterisk.manager import Manager, ManagerException

log = logging.getLogger(__name__)

Event = dict[str, str]
EventMatch = Callable[[Event], bool]


class AmiError(RuntimeError):
    pass


class Ami:
    def __init__(self, host: str, port: int, username: str, secret: str) -> None:
        self._address = (host, port)
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
        manager = Manager()
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

    def command(self, cli_command: str) -> str:
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
        return str(response.data)

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

    def drain(self) -> list[Event]:
        """Move every event received so far into `history` and return the history."""
        while True:
            try:
                self.history.append(self._events.get_nowait())
            except queue.Empty:
                return self.history
