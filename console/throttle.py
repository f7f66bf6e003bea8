"""Sign-in throttling that bounds guessing without letting a stranger lock a user out, and
without growing: failures are counted per (client, user name) and per client, in a store
of fixed size, and at most a few password hashes (64 MiB each with argon2) run at once.

Must not import the CLI (hotline/).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

PER_NAME = 5  # failures of one client for one user name, per window
PER_CLIENT = 20  # failures of one client for any names, per window
WINDOW_S = 300.0
MAX_KEYS = 10_000  # oldest forgotten first: a flood of names cannot grow memory
CONCURRENT_HASHES = 2
HASH_WAIT_S = 5.0


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)

    def blocked(self, client: str, name: str) -> bool:
        with self._lock:
            return (len(self._recent(f"n\0{client}\0{name}")) >= PER_NAME
                    or len(self._recent(f"c\0{client}")) >= PER_CLIENT)

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            now = self._clock()
            for key in (f"n\0{client}\0{name}", f"c\0{client}"):
                self._failures[key] = [*self._recent(key), now]
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n\0{client}\0{name}", None)

    def hashing(self) -> _Slot:
        """A context for one password check; raises Busy when none is free in time."""
        return _Slot(self._hashing)

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: str) -> list[float]:
        now = self._clock()
        return [t for t in self._failures.get(key, []) if now - t < WINDOW_S]


class Busy(RuntimeError):
    """Too many sign-ins are being checked at once."""


class _Slot:
    def __init__(self, semaphore: threading.BoundedSemaphore) -> None:
        self._semaphore = semaphore

    def __enter__(self) -> None:
        if not self._semaphore.acquire(timeout=HASH_WAIT_S):
            raise Busy("too many sign-ins at once; try again in a moment")

    def __exit__(self, *_exc: object) -> None:
        self._semaphore.release()
