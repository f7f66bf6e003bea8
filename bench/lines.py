"""What the load benchmark's callers do, and the routes that serve them.

Two lines share one Asterisk and one FastAGI server:
- the shipped menus (menus/), walked by keys along the shipped call transcripts
  (menus/transcripts/): each transcript's route runs at the transcript's hour of the day,
  so its calls go where the transcript says, whenever the benchmark runs;
- the Korean test line (tests/speech_line/), answered by voice: the one real Vosk model the
  machine can download stands in for Mandarin and Cantonese (the same code path). It is
  served twice: as written (`speech.mode: record`, an answer ends on a pause) and streaming
  (`speech.mode: stream`, the shipped line's mode: AudioSocket and Vosk's endpointer).

A call picks its transcript by the AGI address: `agi://host:port/<transcript>/hotline` (or a
folder of classic AGI programs `<agi-bin>/<transcript>/hotline`), set as the call's own
HOTLINE_AGI_URL, which hides the dialplan's global of the same name.
Everything else is the production route: the same menus, prompts, SQL customer directory,
event spool, speech client, tickets and recording control.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import yaml

from agi.menu_store import MenuStore
from agi.routes import Route, build_routes
from db.spool import EventSpool
from ivr.transcripts import Transcript, load_transcript
from runtime.settings import Settings
from services.composition import HotlineServices

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPTS = ROOT / "menus" / "transcripts"
SPEECH_LINE = ROOT / "tests" / "speech_line"
SPEECH_LINE_KEY = "speech-ko"
SPEECH_STREAM_KEY = "speech-ko-stream"
VOICE_KEYS = (SPEECH_LINE_KEY, SPEECH_STREAM_KEY)

# Keys-only transcripts of the shipped menus that need nothing beyond a caller and the
# customer directory (a directory outage and callbacks are fault scenarios, not load).
DIALLED = ("lost-card-mandarin", "after-hours-lost-card", "card-dispute-cantonese",
           "agent-key-zero", "wrong-keys-get-an-agent", "silent-caller-gets-an-agent",
           "loan-account-entry", "overdue-customer-collections", "vip-priority")


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


Plan = TypeVar("Plan", bound=_Keyed)


def evenly(items: list[Plan], ramp_s: float) -> Iterator[tuple[int, Plan]]:
    """Each item with its index, when its turn comes: spread evenly over `ramp_s` (the
    benchmarks' calls start so)."""
    started = time.monotonic()
    for index, item in enumerate(items):
        due = started + ramp_s * index / max(1, len(items))
        time.sleep(max(0.0, due - time.monotonic()))
        yield index, item


def mix(plans: list[Plan], count: int, speech_every: int) -> list[Plan]:
    """`count` calls: keys callers cycle through the transcripts, every `speech_every`-th
    caller speaks on a Korean line (0: nobody)."""
    keys = itertools.cycle([p for p in plans if p.key not in VOICE_KEYS])
    voice = itertools.cycle([p for p in plans if p.key in VOICE_KEYS])
    return [next(voice) if speech_every and n % speech_every == speech_every - 1
            else next(keys) for n in range(count)]


def transcripts() -> dict[str, Transcript]:
    return {name: load_transcript(TRANSCRIPTS / f"{name}.yaml") for name in DIALLED}


def speech_line_settings(settings: Settings) -> Settings:
    """The Korean line's menus and catalog, its prompts rendered in a sub-folder. Its calls
    use the main line's spool, messages, utterances and database (see bench_routes), so that
    they are recorded like any other."""
    return settings.with_changes(runtime_dir=settings.runtime_dir / "speech-line",
                                 menus_dir=SPEECH_LINE / "menus",
                                 catalog_path=SPEECH_LINE / "catalog.yaml")


def streaming_menus(settings: Settings) -> Path:
    """The Korean line's menus with `speech.mode: stream`, written under the runtime folder
    (the same menus otherwise, so both modes answer the same words)."""
    line = yaml.safe_load((SPEECH_LINE / "menus" / "line.yaml").read_text(encoding="utf-8"))
    line["line"]["speech"]["mode"] = "stream"
    folder = settings.runtime_dir / "speech-line-stream" / "menus"
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(line, allow_unicode=True, sort_keys=False)
    target = folder / "line.yaml"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return folder


@dataclass
class _AtHour:
    """`ivr.ports.Clock` on the transcript's date and hour (the benchmark's own seconds
    would not change a route: menus look at the day and the hour)."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def bench_routes(settings: Settings, only: str | None = None) -> Mapping[str, Route]:
    """Every line's routes as `<transcript>/<route>`; `only`: just that transcript's (a
    classic AGI process serves one call). Each is the production `hotline` route with the
    production services (services.composition), on the transcript's menus and hour."""
    services = HotlineServices.of(settings, EventSpool(settings.spool_dir))
    routes: dict[str, Route] = {}

    def add(key: str, store: MenuStore, prompts_dir: Path, clock: _AtHour | None) -> None:
        route = services.route(store, prompts_dir, clock)
        for name, served in build_routes(route, route.resume_from_queue,
                                         route.survey).items():
            routes[f"{key}/{name}"] = served

    shipped = MenuStore(settings.menus, settings.catalog_file)
    if only not in VOICE_KEYS and not shipped.reload().applied:
        raise RuntimeError("the shipped menus do not load: run `hotline validate`")
    for name, transcript in transcripts().items():
        if only in (None, name):
            add(name, shipped, settings.prompts_audio_dir, _AtHour(transcript.at))
    line = speech_line_settings(settings)
    for key, menus_dir in ((SPEECH_LINE_KEY, line.menus),
                           (SPEECH_STREAM_KEY, streaming_menus(settings))):
        if only not in (None, key):
            continue
        korean = MenuStore(menus_dir, line.catalog_file)
        if not korean.reload().applied:
            raise RuntimeError(f"the Korean test line's menus ({key}) do not load")
        add(key, korean, line.prompts_audio_dir, None)
    return routes
