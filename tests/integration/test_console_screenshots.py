"""The README's pictures of the console, from a database seeded with four weeks of history
(db.sample_history) and recordings the registrar stored: a supervisor signs in in headless
Chromium, looks through the recordings, scores one against the QA checklist, reads the KPI
charts and the complaints. Each page is checked for the seeded figures before its picture is
taken (tests/screenshots.py says where pictures go)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_decimal
from playwright.sync_api import Page, expect, sync_playwright
from pydub import AudioSegment
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from console import auth
from console.app import ConsoleConfig, create_app
from db import migrate
from db.database import make_engine
from db.models import Recording, RecordingStatus
from db.recordings import Registrar
from db.sample_history import SeededHistory, seed_history
from hotline.console_commands import find_browser
from runtime.settings import Settings
from services.records import retention_policy
from tests.screenshots import save_screenshot
from tests.support import serving

PASSWORD = "a long test password"
LINE_ZONE = ZoneInfo("Asia/Shanghai")


def conversation(turns: list[AudioSegment]) -> AudioSegment:
    """Turns taken in a call recording's two channels (left the caller, right the line), the
    other side silent meanwhile, as MixMonitor's stereo files are."""
    left = right = AudioSegment.empty()
    for number, turn in enumerate(turns):
        speaking = turn.set_frame_rate(8000).set_channels(1).set_sample_width(2) \
            + AudioSegment.silent(400, frame_rate=8000)
        gap = AudioSegment(data=bytes(len(speaking.raw_data)), sample_width=2,
                           frame_rate=8000, channels=1)
        left, right = (left + speaking, right + gap) if number % 2 else (left + gap,
                                                                          right + speaking)
    return AudioSegment.from_mono_audiosegments(left, right)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Engine, Path, SeededHistory]]:
    """Four weeks of calls; the last two days' recordings hold rendered prompts' audio (of
    their different lengths) and are registered by the real registrar (size, duration,
    sha256, retention)."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    prompts = sorted(Settings.from_env().prompts_audio_dir.glob("cmn/*/*.wav"))
    assert len(prompts) > 10, "the Mandarin prompts are missing: `make prompts` renders them"
    turns = [AudioSegment.from_wav(p) for p in prompts]
    with Session(engine) as session, session.begin():
        history = seed_history(session, now=datetime.now(UTC), recordings_dir=recordings)
        auth.add_user(session, "sup1", PASSWORD, "supervisor", datetime.now(UTC))
    for number, path in enumerate(history.recordings):
        conversation(turns[number % len(turns):][:4 + number % 9]).export(path, format="wav")
    report = Registrar(engine, recordings, lambda: retention_policy(None)).run_once(adopt=False)
    assert report.stored == len(history.recordings) > 0 and not report.alarms
    yield engine, recordings, history
    engine.dispose()


@pytest.fixture
def console_url(seeded: tuple[Engine, Path, SeededHistory]) -> Iterator[str]:
    engine, recordings, _history = seeded
    app = create_app(ConsoleConfig(engine=engine, recordings_dir=recordings))
    with serving(app) as url:
        yield url


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "sup1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # Argon2id and a commit: seconds on a busy machine. A condition, generously bounded.
    expect(page.locator("#who")).to_contain_text("sup1 (班长)", timeout=90_000)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_readme_s_pictures_show_a_seeded_month_in_chinese(
        seeded: tuple[Engine, Path, SeededHistory], console_url: str, tmp_path: Path) -> None:
    engine, _recordings, history = seeded
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Recording).where(
            Recording.status == RecordingStatus.STORED))
        newest = session.scalars(select(Recording).order_by(Recording.id.desc())).first()
    assert newest is not None and stored == len(history.recordings)
    today = datetime.now(LINE_ZONE).date()
    browser_path = find_browser()
    assert browser_path, "Chromium is missing: `make browser` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True,
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(page, console_url)

        page.goto(f"{console_url}/recordings?day_from={today - timedelta(days=1)}"
                  f"&day_to={today}")
        expect(page.locator("a[data-call]").first).to_be_visible(timeout=30_000)
        save_screenshot(page, "recordings", tmp_path)

        page.goto(f"{console_url}/recordings/{newest.id}")
        expect(page.locator("#path li").first).to_be_visible()
        page.check("input[name=item-greeting]")
        page.check("input[name=item-identity]")
        page.check("input[name=item-no-sensitive-readback]")
        page.fill("textarea[name=notes]", "核身规范，未复述敏感信息")
        page.click("#review button[type=submit]")
        expect(page.locator("#reviews .score")).not_to_have_count(0, timeout=30_000)
        save_screenshot(page, "recording", tmp_path, full_page=True)

        page.goto(f"{console_url}/dashboard?day_from={today - timedelta(days=27)}"
                  f"&day_to={today}")
        for chart in ("calls", "service", "satisfaction", "dispositions"):
            expect(page.locator(f"[data-chart={chart}]")).to_have_attribute(
                "data-drawn", "yes", timeout=30_000)
        calls = format_decimal(history.calls, locale="zh_CN")  # "1,039"
        expect(page.locator("#kpis tr").first.locator("td")).to_have_text(calls)
        save_screenshot(page, "dashboard", tmp_path, full_page=True)

        page.goto(f"{console_url}/complaints")
        expect(page.locator("#complaints tbody tr", has_text=history.complaints[-1])) \
            .to_have_count(1, timeout=30_000)
        save_screenshot(page, "complaints", tmp_path)
        browser.close()
