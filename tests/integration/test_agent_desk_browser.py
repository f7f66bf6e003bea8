"""The agent desk in headless Chromium, through real Asterisk: an agent signs in, the browser
phone (JsSIP over Asterisk's WebSocket, DTLS-SRTP media) registers; paused, the agent is
offered no call; ready, a real call through the menus rings the browser; the screen pop shows
the customer, the IVR path and the verification before the agent answers; audio flows both
ways (the browser's RTP counters); after the call the agent is held until the wrap-up is
saved, and the supervisor's KPI page shows it.

An Asterisk of this module's own, whose only agent is the browser agent
(tests/routing/desk-agents.yaml), so that no simulated agent takes the call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agi.menu_store import MenuStore
from bench.local_callers import local_calls
from bench.sip_plans import plan_transcript
from console import auth
from console.app import BrowserPhone, ConsoleConfig, create_app
from console.wrap_up import load_dispositions
from db import migrate
from db.database import make_engine
from db.models import WrapUp
from db.sample_data import load_sample_customers
from hotline.agent_commands import queue_states
from hotline.console_commands import find_browser
from hotline.prompt_commands import build_prompts
from ivr.agents import load_agents
from ivr.catalog import prompt_sound
from ivr.graph import node_words
from ivr.menu_loader import MenuSet
from ivr.transcripts import Transcript, load_transcript
from pbx import config as asterisk_config
from pbx.ami import Ami
from pbx.presence import PresenceControl
from pbx.process import AsteriskInstance
from pbx.provision import find_or_provision
from services.records import Recorder
from tests import support
from tests.integration.conftest import TEST_DIALPLAN
from tests.integration.dialling import SCRIPTED_CALLER_NUMBER, transcript_route
from tests.screenshots import save_screenshot
from tests.support import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DESK_AGENTS = ROOT / "tests" / "routing" / "desk-agents.yaml"
PASSWORD = "a long test password"
AGENT = "desk-cmn-1"
EXTENSION = "2101"
# Chromium with a fake microphone (a tone) it may use without asking, and ICE candidates on
# loopback, where Asterisk's RTP listens.
CHROMIUM_ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def desk_asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskInstance]:
    from runtime.settings import Settings

    settings = Settings.from_env().with_changes(
        runtime_dir=tmp_path_factory.mktemp("desk-runtime"), agi_port=free_port(),
        ami_port=free_port(), sip_port=free_port(), webrtc_port=free_port(),
        rtp_start=33000, rtp_end=33999, agents_path=DESK_AGENTS,
        dialplan_overlay=TEST_DIALPLAN)
    assert not build_prompts(settings, quiet=True).problems
    instance = AsteriskInstance(settings, find_or_provision(settings.asterisk_root,
                                                            allow_provision=False))
    instance.up()
    yield instance
    instance.down()


@pytest.fixture
def world(desk_asterisk: AsteriskInstance, tmp_path: Path) -> Iterator[dict[str, object]]:
    settings = desk_asterisk.settings
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    load_sample_customers(engine, settings.customers)
    loaded, problems = load_agents(DESK_AGENTS)
    assert loaded is not None, problems
    agents = list(loaded.agents)
    with Session(engine) as session, session.begin():
        auth.add_user(session, "li", PASSWORD, "agent", datetime.now(UTC), agent_id=AGENT,
                      known_agents=frozenset({AGENT}))
        auth.add_user(session, "sup1", PASSWORD, "supervisor", datetime.now(UTC))
    recorder = Recorder(settings.with_changes(database_url_setting=url))
    service = threading.Thread(target=recorder.run, args=(free_port(),))
    service.start()
    wait_until(lambda: recorder.collector.connected, 20, "the records service's AMI")
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied
    menus = store.current()
    assert menus is not None
    phone = BrowserPhone(websocket=f"ws://127.0.0.1:{settings.webrtc_port}/ws",
                         uri=f"sip:{EXTENSION}@127.0.0.1",
                         password=asterisk_config.sip_password(settings, EXTENSION))
    app = create_app(ConsoleConfig(
        engine=engine, recordings_dir=settings.recordings_dir,
        presence=PresenceControl(desk_asterisk.ami, agents), agent_ids=(AGENT,),
        node_words=node_words(menus), phones={AGENT: phone}, floor=desk_asterisk.ami))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the console")
    transcript = load_transcript(ROOT / "menus" / "transcripts"
                                 / "lost-card-verified-freeze.yaml")
    fastagi = support.start_fastagi(settings.agi_port, {
        "hotline": transcript_route(settings, store, transcript, agents=agents)})
    yield {"url": f"http://127.0.0.1:{port}", "engine": engine, "menus": menus,
           "transcript": transcript}
    fastagi.stop()
    server.should_exit = True
    thread.join(10)
    recorder.stop()
    service.join(15)
    engine.dispose()


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    # Argon2id and a commit: seconds on a busy machine. A condition, generously bounded.
    with page.expect_response(lambda r: r.url.endswith("/login")
                              and r.request.method == "POST", timeout=90_000) as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 303, f"signing in {username}: {posted.value.status}"
    expect(page.locator("#who")).to_contain_text(username, timeout=90_000)


def member_paused(ami: Ami) -> set[bool]:
    return {m.paused for q in queue_states(ami) for m in q.members if m.agent == AGENT}


@pytest.mark.timeout(420)  # a real call with a person's pace, and a browser
def test_an_agent_takes_a_real_call_in_the_browser_with_the_callers_context(
        desk_asterisk: AsteriskInstance, world: dict[str, object], tmp_path: Path) -> None:
    url = str(world["url"])
    engine: Engine = world["engine"]  # type: ignore[assignment]
    browser_path = find_browser()
    assert browser_path, "Chromium is missing: `make browser` installs it"
    with desk_asterisk.ami() as ami, sync_playwright() as playwright, ExitStack() as stack:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(page, url, "li")
        expect(page).to_have_url(f"{url}/desk")
        expect(page.locator("#phone-status")).to_have_attribute("data-state", "registered",
                                                               timeout=30_000)
        # Paused: Asterisk's queue members say so, and a call waits without ringing.
        page.select_option("#pause-reason", "break")
        page.click("#go-paused")
        expect(page.locator("#presence")).to_have_attribute("data-state", "paused")
        wait_until(lambda: member_paused(ami) == {True}, 20, "the members to be paused")

        # A caller who knows the menus: presses over a prompt once it has heard what it
        # needs, or when the hotline waits. Its turns taken, it talks on (a rendered prompt,
        # over and over): audio for the agent's side to receive.
        menus: MenuSet = world["menus"]  # type: ignore[assignment]
        transcript: Transcript = world["transcript"]  # type: ignore[assignment]
        prompts_dir = desk_asterisk.settings.prompts_audio_dir
        talk = prompt_sound(prompts_dir, "noagent.menu", "cmn").relative_to(prompts_dir)
        plan = replace(plan_transcript(menus, "lost-card-verified-freeze", transcript,
                                       barging=True),
                       caller_number=transcript.caller_number or SCRIPTED_CALLER_NUMBER,
                       talk=str(talk))
        calls = stack.enter_context(local_calls(desk_asterisk.ami, [plan], patience_s=240,
                                                sounds_dir=prompts_dir))
        (hotline_id,) = calls.hotlines
        ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin"
                     and e.get("Uniqueid") == hotline_id, 120)
        # Asterisk offers a waiting caller to an available agent at once: 3 s is plenty for
        # a wrong offer to show, and a slow machine can only make it less likely to be seen.
        time.sleep(3)
        assert not any(e.get("Event") == "AgentCalled" for e in ami.history)
        # The supervisors' wallboard (fed by Asterisk's QueueStatus): one caller waiting,
        # by masked number only, the agent paused.
        wallboard = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        sign_in(wallboard, url, "sup1")
        wallboard.goto(f"{url}/wallboard")
        waiting_row = wallboard.locator("#wallboard tbody tr").filter(
            has=wallboard.locator("td.waiting", has_text="1"))
        expect(waiting_row).to_have_count(1, timeout=30_000)
        expect(waiting_row.locator("td.paused")).to_have_text("1")
        expect(waiting_row.locator("td.callers")).to_contain_text("*")
        save_screenshot(wallboard, "wallboard", tmp_path)

        page.click("#go-ready")
        expect(page.locator("#presence")).to_have_attribute("data-state", "ready")

        # It rings in the browser; the screen pop is there before answering.
        expect(page.locator("#phone-status")).to_have_attribute("data-state", "ringing",
                                                               timeout=60_000)
        expect(page.locator("#pop")).to_have_attribute("data-state", "ringing",
                                                       timeout=30_000)
        expect(page.locator("#verified")).to_contain_text("pin")
        expect(page.locator("#customer")).to_contain_text("C1001")
        expect(page.locator("#intent")).to_contain_text("card-replacement")
        words = node_words(world["menus"])  # type: ignore[arg-type]
        expect(page.locator("#path")).to_contain_text(words["cards.freeze"])
        save_screenshot(page, "desk", tmp_path, full_page=True)

        expect(waiting_row).to_have_count(1)  # still waiting while it rings
        page.click("#phone-answer")
        expect(page.locator("#phone-status")).to_have_attribute("data-state", "on a call",
                                                               timeout=30_000)
        expect(waiting_row).to_have_count(0, timeout=30_000)  # answered: nobody waits
        expect(wallboard.locator("#wallboard td.on-call", has_text="1")).not_to_have_count(
            0, timeout=30_000)
        counters: list[dict[str, int | str]] = []

        def audio_both_ways() -> bool:
            counters.append(page.evaluate("window.hotlinePhone.rtp()"))
            sent, received = counters[-1]["sent"], counters[-1]["received"]
            return isinstance(sent, int) and isinstance(received, int) \
                and sent > 25 and received > 25

        try:
            wait_until(audio_both_ways, 30, "audio both ways")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: the browser phone's RTP {counters[-1]}") from exc

        page.click("#phone-hangup")  # the caller goes on to the survey
        expect(page.locator("#wrap")).to_be_visible(timeout=30_000)
        wait_until(lambda: member_paused(ami) == {True}, 30, "the hold for wrap-up")
        page.select_option("#disposition", "card-replaced")
        page.fill("textarea[name=notes]", "card frozen in the IVR; replacement ordered")
        page.click("#save-wrap")
        expect(page.locator("#no-call")).to_be_visible(timeout=30_000)
        wait_until(lambda: member_paused(ami) == {False}, 30, "ready again after wrap-up")

        supervisor = browser.new_context().new_page()
        sign_in(supervisor, url, "sup1")
        supervisor.goto(f"{url}/dashboard")
        replaced = next(d.label for d in load_dispositions().dispositions
                        if d.code == "card-replaced")
        expect(supervisor.locator("#kpis")).to_contain_text(f"{replaced}: 1")
        browser.close()
        calls.wait(120)  # the survey unanswered: the hotline ends the call
    with Session(engine) as session:
        wrap = session.scalar(select(WrapUp).where(WrapUp.call_id == hotline_id))
        assert wrap is not None and (wrap.agent, wrap.customer_id) == (AGENT, "C1001")
