"""The whole compliance path with real parts: a call through real Asterisk reaches a
simulated agent and is recorded; the records service stores and registers the recording;
`hotline recordings verify` passes, then catches tampering; and a supervisor, in headless
Chromium driven by Playwright, signs in to the running console, finds the call, plays the
recording (the audio element loads and seeks over HTTP range requests), scores it and sees
the playback in the audit log. Live monitoring attaches a supervisor's phone with ChanSpy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from console import auth
from console.app import ConsoleConfig, create_app
from console.live import LiveMonitor
from db import migrate
from db.database import make_engine
from db.models import Recording
from hotline.cli import app as cli
from hotline.console_commands import find_browser
from ivr.agents import Agent
from ivr.menu_loader import MenuSet
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from services.records import Recorder
from tests.integration.conftest import ServerFactory
from tests.integration.dialling import dial_cantonese_dispute
from tests.support import free_port, serving, wait_until

PASSWORD = "a long test password"


@pytest.fixture
def records(asterisk: AsteriskInstance, tmp_path: Path) -> Iterator[tuple[Recorder, Engine]]:
    """The records service on a database of this test's own."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    recorder = Recorder(asterisk.settings.with_changes(database_url_setting=url))
    service = threading.Thread(target=recorder.run, args=(free_port(),))
    service.start()
    engine = make_engine(url)
    wait_until(lambda: recorder.collector.connected, 10, "AMI")
    yield recorder, engine
    recorder.stop()
    service.join(15)
    engine.dispose()


@pytest.fixture
def console_url(asterisk: AsteriskInstance, ami: Ami, records: tuple[Recorder, Engine],
                agents: list[Agent]) -> Iterator[str]:
    _recorder, engine = records
    with Session(engine) as session, session.begin():
        auth.add_user(session, "sup1", PASSWORD, "supervisor", datetime.now(UTC))
    settings = asterisk.settings
    monitor = LiveMonitor(asterisk.ami, agents, "Local/{phone}@hotline-scripted-supervisor")
    app = create_app(ConsoleConfig(engine=engine, recordings_dir=settings.recordings_dir,
                                   monitor=monitor))
    with serving(app) as url:
        yield url


def rendered_fonts(page: Page, selector: str) -> list[str]:
    """The fonts Chromium drew an element's text with (DevTools: CSS.getPlatformFontsForNode),
    not the ones CSS asked for: a missing CJK font shows here as a fallback or as nothing."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("DOM.enable")
    devtools.send("CSS.enable")
    root = devtools.send("DOM.getDocument")["root"]["nodeId"]
    node = devtools.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def stored_recording(engine: Engine, call_id: str) -> Recording:
    def find() -> Recording | None:
        with Session(engine) as session:
            return session.scalars(select(Recording).where(
                Recording.call_id == call_id, Recording.status == "stored")).first()
    return wait_until(find, 30, "the recording to be registered")  # type: ignore[no-any-return]


@pytest.mark.timeout(300)  # a real call, then a browser on a possibly busy machine
def test_a_supervisor_finds_plays_and_scores_a_real_call_s_recording(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], records: tuple[Recorder, Engine], console_url: str,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _recorder, engine = records
    settings = asterisk.settings
    call = dial_cantonese_dispute(ami, start_fastagi, asterisk, menus, agents, stay_s=6)
    recording = stored_recording(engine, call.hotline_id)
    assert (recording.agent, recording.queue) == ("cards-yue", "cards-disputes-yue")
    assert recording.duration_ms and recording.duration_ms > 5000
    assert recording.path.endswith(f"{call.hotline_id}.wav")
    assert recording.retain_until is not None and recording.sha256

    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", str(engine.url))
    runner = CliRunner()
    verified = runner.invoke(cli, ["recordings", "verify"])
    assert verified.exit_code == 0, verified.output
    assert runner.invoke(cli, ["recordings", "check"]).exit_code == 0

    browser_path = find_browser()
    assert browser_path, "Chromium is missing: `make browser` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path, headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.goto(f"{console_url}/recordings")
        expect(page).to_have_url(f"{console_url}/login")
        page.fill("input[name=username]", "sup1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        # Signing in hashes (argon2id, 64 MiB) and commits the session and an audit entry to
        # the SQLite file the records service writes every second: on a busy machine (CI
        # once ran beside a whole `make demo`) that took over 20 s. A condition, generously
        # bounded.
        expect(page.locator("#who")).to_contain_text("sup1 (班长)", timeout=90_000)

        page.fill("input[name=caller]", "0000")  # the scripted caller's last 4 digits
        page.fill("input[name=agent]", "cards-yue")
        page.click("#search button[type=submit]")
        page.click(f"a[data-call='{call.hotline_id}']")
        expect(page.locator("#path")).to_contain_text("cards.disputes", timeout=30_000)

        player = page.locator("#player")
        # Promises, not wait_for_function: the console's CSP forbids eval, rightly.
        duration = player.evaluate("""a => a.readyState >= 1 ? a.duration : new Promise(
            done => a.addEventListener('loadedmetadata', () => done(a.duration),
                                       {once: true}))""")
        assert abs(duration - recording.duration_ms / 1000) < 0.5
        player.evaluate("""a => new Promise(done => {
            a.addEventListener('seeked', done, {once: true});
            a.currentTime = a.duration / 2; })""")
        assert abs(player.evaluate("a => a.currentTime") - duration / 2) < 0.5
        played_to = player.evaluate("""a => new Promise(done => {
            const from = a.currentTime;
            a.addEventListener('timeupdate', function check() {
                if (a.currentTime > from + 0.3) {
                    a.removeEventListener('timeupdate', check); a.pause(); done(a.currentTime);
                } });
            a.play(); })""")
        assert played_to > duration / 2

        page.check("input[name=item-greeting]")
        page.check("input[name=item-identity]")
        page.fill("textarea[name=notes]", "disclosure heard; identity checked")
        page.click("#review button[type=submit]")
        expect(page.locator("#reviews .score")).to_have_text("25%", timeout=30_000)

        page.click("header a[href='/audit']")
        row = page.locator("#audit tbody tr", has_text=f"recording:{recording.id}")
        expect(row.filter(has_text="play").first).to_contain_text("sup1", timeout=30_000)
        expect(row.filter(has_text="score").first).to_contain_text("sup1", timeout=30_000)
        expect(page.locator("h1")).to_have_text("审计日志")
        assert any("CJK" in font for font in rendered_fonts(page, "h1")), \
            f"the Chinese heading is drawn with {rendered_fonts(page, 'h1')}, not a CJK font"

        # The KPI page: today's call drawn by ECharts (the bundle loads under the CSP), a
        # period without calls says so; then the same pages in English.
        page.goto(f"{console_url}/dashboard")
        expect(page.locator("[data-chart=calls]")).to_have_attribute("data-drawn", "yes",
                                                                     timeout=30_000)
        shot = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        assert shot.startswith(b"\x89PNG")
        empty = f"{console_url}/dashboard?day_from=2001-01-01&day_to=2001-01-07"
        page.goto(empty)
        expect(page.locator("#chart-calls .no-data")).to_have_text("暂无数据")
        page.select_option("select[name=language]", "en")
        page.click("#change-language")
        page.goto(empty)
        expect(page.locator("#chart-calls .no-data")).to_have_text("no data yet")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#who")).to_contain_text("sup1 (supervisor)")
        browser.close()

    with Path(recording.path).open("ab") as changed:  # tampering after registration
        changed.write(b"\0" * 8)
    tampered = runner.invoke(cli, ["recordings", "verify"])
    assert tampered.exit_code == 1 and "changed" in tampered.output


def test_a_supervisor_listens_to_a_live_call(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], records: tuple[Recorder, Engine], console_url: str) -> None:
    """The console rings the supervisor's phone and ChanSpy attaches it to the agent's
    call; the live page shows the agent's screen pop meanwhile."""
    import httpx2 as httpx

    ami.action("Setvar", Variable="AGENT_TALK_S", Value="12")
    dialling = threading.Thread(target=dial_cantonese_dispute, daemon=True, args=(
        ami, start_fastagi, asterisk, menus, agents), kwargs={"stay_s": 14})
    try:
        # A connection of its own: the dialling thread reads the shared one's events.
        with asterisk.ami() as watcher, httpx.Client(base_url=console_url) as client:
            dialling.start()
            watcher.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered", 60)
            form = client.get("/login").text
            csrf = form.split('name="csrf" value="')[1].split('"')[0]
            client.post("/login", data={"username": "sup1", "password": PASSWORD,
                                        "csrf": csrf})
            live = wait_until(lambda: (lambda text: "cards-yue" in text and text)(
                client.get("/live").text), 15, "the live call in the console")
            assert "card-dispute" in live and "cards.disputes" in live
            token = live.split('name="csrf" value="')[1].split('"')[0]
            call_id = live.split('name="call_id" value="')[1].split('"')[0]
            response = client.post("/live/monitor", data={
                "csrf": token, "agent": "cards-yue", "mode": "whisper", "phone": "9001",
                "call_id": call_id})
            assert response.status_code == 200, response.text
            spy = watcher.wait_for(lambda e: e.get("Event") == "ChanSpyStart", 15)
            assert "monitor-whisper" in client.get("/audit").text
        assert spy.get("SpyeeChannel", "").startswith("Local/2001@hotline-simulated-agent")
        assert spy.get("SpyerChannel", "").startswith("Local/9001@hotline-scripted-supervisor")
    finally:
        ami.action("Setvar", Variable="AGENT_TALK_S", Value="3")
        dialling.join(60)  # the agent is free again for the next test
