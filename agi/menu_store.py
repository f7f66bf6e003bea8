"""The menus the FastAGI server serves, reloaded live.

Operators edit `menus/*.yaml` or the prompt catalog; a watcher thread (and SIGHUP) reloads.
An edit that fails validation is refused with every problem logged, and calls keep the last
good menus. So is a valid edit the running system cannot serve (`deployable`: prompts not
rendered, queues the running Asterisk lacks): its calls would all take the failure path.
Each call takes one snapshot at its start, so a reload never changes a call midway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ivr.menu_loader import LEXICON_FILE, LoadResult, MenuSet, load_menus, menu_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadResult:
    applied: bool
    version: str | None  # the version now serving calls
    problems: tuple[str, ...]


# What the running system lacks to serve a menu set (each a sentence with its fix); [] when
# it can serve it.
Deployable = Callable[[MenuSet], list[str]]


class MenuStore:
    def __init__(self, menus_dir: Path, catalog_file: Path,
                 deployable: Deployable | None = None) -> None:
        self.menus_dir = menus_dir
        self.catalog_file = catalog_file
        self.deployable = deployable
        self._current: MenuSet | None = None
        self._lock = threading.Lock()
        self._fingerprint: tuple[tuple[str, int, int], ...] = ()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    def current(self) -> MenuSet | None:
        """The menus for a new call; None only if no valid menus were ever loaded."""
        with self._lock:
            return self._current

    def reload(self) -> ReloadResult:
        fingerprint = self._files_fingerprint()
        result: LoadResult = load_menus(self.menus_dir, self.catalog_file)
        rendered = tuple(p.render(self.menus_dir.parent) for p in result.problems)
        lacking = self.deployable(result.menus) if result.menus and self.deployable else []
        if lacking and self.current() is not None:
            version = self.current().version  # type: ignore[union-attr]
            log.error("menus %s not loaded: valid, but this hotline cannot serve them yet; "
                      "still serving %s", result.menus.version if result.menus else "?",
                      version)
            for line in lacking:
                log.error("  %s", line)
            with self._lock:
                self._fingerprint = fingerprint
            return ReloadResult(False, version, (*rendered, *lacking))
        for line in lacking:  # the first menus: served anyway; such calls reach a human
            log.error("menus: %s", line)
        with self._lock:
            self._fingerprint = fingerprint
            if result.menus is None:
                version = self._current.version if self._current else None
                log.error("menus not reloaded: %d problem(s); still serving %s", len(rendered),
                          version or "nothing (calls go to the fallback queue)")
                for line in rendered:
                    log.error("  %s", line)
                return ReloadResult(False, version, rendered)
            previous = self._current.version if self._current else None
            self._current = result.menus
        if previous != result.menus.version:
            log.info("menus %s loaded (was %s)", result.menus.version, previous or "none")
        return ReloadResult(True, result.menus.version, rendered)

    def _files_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        files = [*menu_files(self.menus_dir), self.catalog_file,
                 self.catalog_file.with_name(LEXICON_FILE)]
        out = []
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                continue
            out.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def changed(self) -> bool:
        return self._files_fingerprint() != self._fingerprint

    def watch(self, interval_s: float = 1.0) -> None:
        """Reload in a background thread whenever a menu file or the catalog changes."""
        if self._watcher is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval_s):
                if not self.changed():
                    continue
                seen = self._files_fingerprint()
                try:
                    self.reload()
                except Exception:  # noqa: BLE001 - the watcher must outlive any bad file
                    log.exception("menus not reloaded: the files could not be read; still "
                                  "serving the current menus")
                    with self._lock:
                        self._fingerprint = seen  # retried at the next edit, not every second

        self._watcher = threading.Thread(target=loop, name="menu-watch", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(5)
            self._watcher = None
