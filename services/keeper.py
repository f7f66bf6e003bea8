"""The keeper: restarts the hotline's background services when one dies or stops answering,
so a crash costs callers seconds on the fallback queue, not the hours until someone notices.

`hotline up` starts the services, then the keeper (`hotline keep`), which watches them:
- a service whose process is gone (killed, crashed, out of memory) is started again;
- a service whose process is alive but has not accepted a connection on its port for
  `hung_after_s` is killed and started again (a wedged FastAGI server is as bad as none);
- a service that keeps dying is restarted with a growing pause (`backoff_s` doubling up to
  `max_backoff_s`), so a broken install does not spin the CPU; the pause resets once it has
  stayed up for `stable_after_s`.
Every restart is logged and counted in `run/keeper.json` (`hotline status` prints it).
`hotline down` stops the keeper first, so that it does not bring back what is being stopped.

Imports no Asterisk, pyst2 or Vosk: it only sees processes and ports.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runtime.host import accepts, reap
from services.processes import BackgroundService, ServiceError

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0


@dataclass
class ServiceWatch:
    """What the keeper knows about one service."""

    name: str
    restarts: int = 0
    last_restart: float | None = None  # epoch seconds
    last_reason: str = ""
    pid: int | None = None
    up_since: float = field(default_factory=time.monotonic)
    unanswered_since: float | None = None
    backoff_s: float = 0.0
    next_try: float = 0.0


@dataclass(frozen=True)
class KeeperPolicy:
    check_interval_s: float = CHECK_INTERVAL_S
    hung_after_s: float = 10.0
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    stable_after_s: float = 30.0


class Keeper:
    """Watches `services` (each a `BackgroundService`: pid file, port, `up()`)."""

    def __init__(self, services: Sequence[BackgroundService], state_file: Path,
                 policy: KeeperPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 answers: Callable[[BackgroundService], bool] | None = None) -> None:
        self.services = list(services)
        self.state_file = state_file
        self.policy = policy or KeeperPolicy()
        self.clock = clock
        self.answers = answers or _accepts
        self.watches = {s.name: ServiceWatch(s.name, pid=s.pid(), up_since=clock())
                        for s in self.services}
        self._stop = threading.Event()

    def run(self) -> None:
        """Check every `check_interval_s` until `stop()` (or SIGTERM in `keep_forever`)."""
        self._save()
        while not self._stop.wait(self.policy.check_interval_s):
            self.check_once()

    def stop(self) -> None:
        self._stop.set()

    def check_once(self) -> list[str]:
        """One round over every service; returns the names restarted."""
        restarted = []
        for service in self.services:
            if self._stop.is_set():
                break
            if self._check(service):
                restarted.append(service.name)
        if restarted:
            self._save()
        return restarted

    def _check(self, service: BackgroundService) -> bool:
        watch = self.watches[service.name]
        now = self.clock()
        pid = service.pid()
        if pid is None:
            if watch.pid is not None:
                reap(watch.pid)  # a child of ours (restarted earlier) must not stay a zombie
            return self._restart(service, watch, now, "exited")
        watch.pid = pid
        if self.answers(service):
            watch.unanswered_since = None
            if now - watch.up_since >= self.policy.stable_after_s:
                watch.backoff_s = 0.0
            return False
        if watch.unanswered_since is None:
            watch.unanswered_since = now
            return False
        if now - watch.unanswered_since < self.policy.hung_after_s:
            return False
        log.warning("%s (pid %d) has not answered on port %s for %.0f s: killing it",
                    service.name, pid, service.port, now - watch.unanswered_since)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap(pid)
        return self._restart(service, watch, now, "hung")

    def _restart(self, service: BackgroundService, watch: ServiceWatch, now: float,
                 reason: str) -> bool:
        if now < watch.next_try:
            return False
        try:
            pid = service.up()
        except (ServiceError, OSError) as exc:
            self._back_off(watch)
            watch.next_try = self.clock() + watch.backoff_s
            watch.pid = None
            log.error("%s %s and did not start again (%s); next try in %.0f s",
                      service.name, reason, exc, watch.backoff_s)
            return False
        if now - watch.up_since < self.policy.stable_after_s:
            # Died soon after its last start: wait longer before the next one.
            self._back_off(watch)
        watch.next_try = self.clock() + watch.backoff_s
        watch.restarts += 1
        watch.last_restart = time.time()
        watch.last_reason = reason
        watch.pid = pid
        watch.up_since = self.clock()
        watch.unanswered_since = None
        log.warning("%s %s: restarted (pid %d, restart %d)", service.name, reason, pid,
                    watch.restarts)
        return True

    def _back_off(self, watch: ServiceWatch) -> None:
        """Double the wait before the next start, from the first step up to the ceiling."""
        watch.backoff_s = min(max(watch.backoff_s * 2, self.policy.backoff_s),
                              self.policy.max_backoff_s)

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        state = {name: {k: v for k, v in asdict(w).items()
                        if k in ("restarts", "last_restart", "last_reason", "pid")}
                 for name, w in self.watches.items()}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
        temporary.replace(self.state_file)


def _accepts(service: BackgroundService) -> bool:
    return service.port is None or accepts(service.settings.agi_host, service.port)


def read_state(state_file: Path) -> dict[str, dict[str, object]]:
    """What the keeper has restarted so far ({} when it never ran)."""
    try:
        loaded = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def keep_forever(keeper: Keeper) -> None:
    """Run in the foreground until SIGTERM or SIGINT."""
    def stop(_signum: int, _frame: object) -> None:
        keeper.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("keeping %s", ", ".join(s.name for s in keeper.services))
    keeper.run()
    log.info("keeper stopped")
