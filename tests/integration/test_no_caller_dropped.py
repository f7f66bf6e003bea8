"""No caller dropped, through real Asterisk: a caller no agent takes within the queue's time
is brought back to the no-agent menu in their own language and books a callback for the
queue they waited in; a callback booked on a public holiday is set for the next working day.

The caller listens before pressing (dialling.answer_prompts): each key follows the prompt
it answers, so the tests wait for the hotline, never for fixed times."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from db.spool import EventSpool
from hotline.prompt_commands import build_prompts
from ivr.agents import Agent
from ivr.transcripts import TranscriptDirectory, load_transcript
from pbx.ami import Ami
from pbx.calls import CallerScript, finish_call, start_call
from pbx.process import AsteriskInstance
from tests.integration.conftest import ServerFactory
from tests.integration.dialling import answer_prompts, spooled
from tests.support import FixedClock

ROOT = Path(__file__).resolve().parents[2]
QUEUE_WAIT_S = 4  # the card queue's max_wait_s in this test's copy of the menus
CALLER = "13800000002"


def serve(asterisk: AsteriskInstance, start_fastagi: ServerFactory, agents: list[Agent],
          menus_dir: Path, at: str) -> None:
    settings = asterisk.settings
    assert not build_prompts(settings, quiet=True).problems
    store = MenuStore(menus_dir, settings.catalog_file)
    assert store.reload().applied
    route = HotlineRoute(
        store=store, prompts_dir=settings.prompts_audio_dir,
        messages_dir=settings.messages_dir, directory=TranscriptDirectory(load_transcript(
            ROOT / "menus" / "transcripts" / "long-wait-callback.yaml")),
        events=EventSpool(settings.spool_dir), agents=agents,
        clock=FixedClock(datetime.fromisoformat(at)))
    start_fastagi({"hotline": route, "queue-exit": route.resume_from_queue})


def test_a_queue_that_times_out_books_a_callback_in_mandarin(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance,
        agents: list[Agent], tmp_path: Path) -> None:
    menus_dir = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", menus_dir)
    cards = menus_dir / "cards.yaml"
    text = cards.read_text(encoding="utf-8")
    anchor = "    intent: cards-general\n"
    assert anchor in text
    cards.write_text(text.replace(anchor, f"{anchor}    max_wait_s: {QUEUE_WAIT_S}\n", 1),
                     encoding="utf-8")
    serve(asterisk, start_fastagi, agents, menus_dir, "2026-11-23T10:00:00+08:00")
    card_agents = [a.ring for a in agents if a.extension in ("2001", "2002")]
    for interface in card_agents:  # logged in, all busy: nobody takes the call
        ami.action("QueuePause", Interface=interface, Paused="true")
    try:
        trace = start_call(ami, CallerScript(stay_s=180, caller_number=CALLER),
                           timeout_s=180)
        answer_prompts(ami, trace, [
            ("cmn/lang.choose_cmn", "1"), ("cmn/main.menu", "2"), ("cmn/cards.menu", "3"),
            # ... the wait, announced; the callback offer declined; then no agent in 4 s:
            ("cmn/noagent.menu", "1"), ("cmn/callback.queue_offer", "1"),
            ("cmn/callback.confirm_keys", "1")])
        trace = finish_call(ami, trace, 120)
    finally:
        for interface in card_agents:
            ami.action("QueuePause", Interface=interface, Paused="false")
    assert trace.ended.get("QueueStatus") == "TIMEOUT", trace.ended
    assert ("hotline-no-agent", "Set", "IVR_START=noagent.menu") in trace.steps
    assert not any(app == "Playback" and data == "goodbye" for _c, app, data in trace.steps)
    [booked] = spooled(asterisk.settings, trace.hotline_id, "callback-requested")
    assert (booked["queue"], booked["language"], booked["number"]) == ("cards", "cmn", CALLER)
    assert booked["intent"] == "cards-general"
    assert booked["not_before"] == "2026-11-23T10:00+08:00"  # open now: as soon as possible


def test_a_callback_booked_on_a_holiday_is_set_for_the_next_working_day(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance,
        agents: list[Agent]) -> None:
    """National Day, 1 October 2026: the line is closed until the 8th (a working day)."""
    serve(asterisk, start_fastagi, agents, ROOT / "menus", "2026-10-01T10:00:00+08:00")
    trace = start_call(ami, CallerScript(stay_s=120, caller_number=CALLER), timeout_s=120)
    answer_prompts(ami, trace, [
        ("cmn/lang.choose_cmn", "1"), ("cmn/afterhours.menu", "3"),
        ("cmn/afterhours.callback_offer", "1"), ("cmn/callback.confirm_keys", "1")])
    trace = finish_call(ami, trace, 120)
    [booked] = spooled(asterisk.settings, trace.hotline_id, "callback-requested")
    assert booked["not_before"] == "2026-10-08T08:00+08:00", booked
    assert (booked["queue"], booked["language"]) == ("general", "cmn")
