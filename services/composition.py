"""Assembles the running hotline from settings: the live menu store, the `hotline` route with
its adapters (prompts, messages, directory, event spool) and the route table."""

from __future__ import annotations

import importlib
import io
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agi.dispatch import SessionEnd, run_session
from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from agi.routes import Route, build_routes
from db.database import make_engine
from db.spool import EventSpool
from db.sql_directory import SqlDirectory
from db.tickets import FileTicketIssuer
from ivr.agents import load_agents
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
    store = MenuStore(settings.menus, settings.catalog_file)
    store.reload()  # invalid menus are logged; calls then go to the fallback queue
    events = EventSpool(settings.spool_dir)
    agents, problems = load_agents(settings.agents_file)
    for problem in problems:
        log.error("agents: %s (callers go to their language's queue at the widest pool)",
                  problem.render())
    route = HotlineRoute(store=store, prompts_dir=settings.prompts_audio_dir,
                         messages_dir=settings.messages_dir,
                         directory=SqlDirectory(make_engine(settings.database_url)),
                         events=events,
                         speech=SpeechClient(settings.agi_host, settings.speech_port),
                         utterances_dir=settings.utterances_dir,
                         agents=list(agents.agents) if agents else [],
                         tickets=FileTicketIssuer(settings.tickets_dir))
    routes = build_routes(route, route.resume_from_queue, route.survey)
    if settings.routes_overlay:
        routes = with_overlay(routes, settings.routes_overlay)
    return HotlineApp(settings, store, routes, events)


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
