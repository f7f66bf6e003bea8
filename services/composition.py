"""Assembles the running hotline from settings: the live menu store, the `hotline` route with
its adapters (prompts, messages, directory, event spool) and the route table."""

from __future__ import annotations

import importlib
import io
import logging
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from agi.dispatch import SessionEnd, run_session
from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from agi.routes import Route, build_routes
from db.audit import AuditSeal
from db.database import make_engine
from db.self_service import SqlAccountServices, SqlVerifier
from db.spool import EventSpool
from db.sql_directory import SqlDirectory
from db.tickets import FileTicketIssuer
from ivr.agents import Agent, asterisk_queue, load_agents
from ivr.catalog import prompt_sound
from ivr.menu_loader import MenuSet
from ivr.outcomes import FALLBACK_QUEUE
from ivr.ports import Clock, SystemClock
from runtime.settings import Settings
from speech.client import SpeechClient

log = logging.getLogger(__name__)


@dataclass
class HotlineApp:
    settings: Settings
    store: MenuStore
    routes: Mapping[str, Route]
    events: EventSpool


def build_app(settings: Settings) -> HotlineApp:
    store = MenuStore(settings.menus, settings.catalog_file, deployable=deployable(settings))
    store.reload()  # invalid menus are logged; calls then go to the fallback queue
    events = EventSpool(settings.spool_dir)
    route = HotlineServices.of(settings, events).route(store, settings.prompts_audio_dir)
    routes = build_routes(route, route.resume_from_queue, route.survey)
    if settings.routes_overlay:
        routes = with_overlay(routes, settings.routes_overlay)
    return HotlineApp(settings, store, routes, events)


@dataclass(frozen=True)
class HotlineServices:
    """What every `hotline` route of one installation shares: the database's directory,
    verifier and self-service, the speech client, agents, tickets and the event spool.
    The benchmark builds its routes from the same (one per transcript's menus and clock)."""

    settings: Settings
    events: EventSpool
    directory: SqlDirectory
    verifier: SqlVerifier
    accounts: SqlAccountServices
    agents: tuple[Agent, ...]

    @classmethod
    def of(cls, settings: Settings, events: EventSpool) -> HotlineServices:
        agents, problems = load_agents(settings.agents_file)
        for problem in problems:
            log.error("agents: %s (callers go to their language's queue at the widest pool)",
                      problem.render())
        engine = make_engine(settings.database_url)
        seal = AuditSeal.load(settings.secrets_dir)
        return cls(settings, events, SqlDirectory(engine), SqlVerifier(engine, seal),
                   SqlAccountServices(engine, seal), tuple(agents.agents) if agents else ())

    def route(self, store: MenuStore, prompts_dir: Path,
              clock: Clock | None = None) -> HotlineRoute:
        settings = self.settings
        return HotlineRoute(store=store, prompts_dir=prompts_dir,
                            messages_dir=settings.messages_dir, directory=self.directory,
                            verifier=self.verifier, accounts=self.accounts, events=self.events,
                            clock=clock or SystemClock(),
                            speech=SpeechClient(settings.agi_host, settings.speech_port),
                            utterances_dir=settings.utterances_dir, agents=list(self.agents),
                            tickets=FileTicketIssuer(settings.tickets_dir))


def deployable(settings: Settings) -> Callable[[MenuSet], list[str]]:
    """What this hotline lacks to serve a menu set: rendered audio for every prompt the menus
    play in every language callers hear, and, when Asterisk runs from this runtime folder,
    every queue of the menus in every language."""

    def lacking(menus: MenuSet) -> list[str]:
        out = []
        line = menus.line
        used = sorted({p for node in menus.nodes.values() for p in node.prompt_ids()}
                      | set(line.prompt_ids()))
        for language in line.languages:
            missing = [p for p in used if p in menus.catalog.prompts
                       and language in menus.catalog.prompts[p].text
                       and not prompt_sound(settings.prompts_audio_dir, p, language)
                       .with_suffix(".wav").is_file()]
            if missing:
                out.append(f"{len(missing)} prompt(s) have no audio in {language} (e.g. "
                           f"{missing[0]}): run `hotline prompts build`")
        generated = settings.asterisk_dir / "etc" / "queues-menus.conf"
        if generated.is_file():
            known = set(re.findall(r"^\[([\w-]+)\]", generated.read_text(), re.MULTILINE))
            absent = sorted(asterisk_queue(queue, language) for queue in menus.queues
                            if queue != FALLBACK_QUEUE for language in line.call_languages
                            if asterisk_queue(queue, language) not in known)
            if absent:
                out.append(f"the running Asterisk has no queue {', '.join(absent[:5])}: run "
                           "`hotline asterisk up` (it regenerates the queues) first")
        return out

    return lacking


def with_overlay(routes: Mapping[str, Route], overlay: str) -> Mapping[str, Route]:
    """The route table plus the routes `module:attribute` names (the tests' own). An overlay
    adds routes; it never replaces one of the hotline's."""
    module_name, _, attribute = overlay.partition(":")
    extra = getattr(importlib.import_module(module_name), attribute)
    clashing = sorted(set(extra) & set(routes))
    if clashing:
        raise ValueError(f"HOTLINE_ROUTES_OVERLAY {overlay} would replace routes {clashing}")
    log.warning("serving extra routes from %s: %s", overlay, ", ".join(sorted(extra)))
    return MappingProxyType({**routes, **extra})


def classic_main() -> int:
    """Classic AGI entry (`hotline-agi <route>`): one process per call over stdin/stdout.
    stdout is the AGI channel: nothing else may ever be written to it."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="hotline-agi %(levelname)s %(name)s: %(message)s")
    app = build_app(Settings.from_env())
    # Line-buffered UTF-8 regardless of the locale Asterisk starts us with.
    reader = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace",
                              newline="\n")
    writer = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                              line_buffering=True)
    report = run_session(reader, writer, app.routes)
    return 1 if report.end is SessionEnd.FAILED else 0
