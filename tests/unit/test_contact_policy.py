"""Calling customers back: quiet hours, attempts per day, business hours and holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.contact_policy import ContactSettings, earliest_call, may_call
from ivr.menu_loader import load_menus
from ivr.menu_schema import LineSettings
from ivr.phone import dialable
from ivr.scheduling import NoOpening, earliest_contact, may_dial
from ivr.transcripts import Transcript, run_transcript

ROOT = Path(__file__).resolve().parents[2]

CST = timezone(timedelta(hours=8))
DEFAULT = ContactSettings()


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CST)


@pytest.mark.parametrize(("now", "earliest"), [
    (at(10), at(10)),
    (at(21, 59), at(21, 59)),
    (at(22), at(8, day=24)),  # quiet from 22:00 ...
    (at(23, 30), at(8, day=24)),
    (at(3), at(8)),  # ... until 08:00
    (at(8), at(8)),
])
def test_never_in_the_quiet_hours(now: datetime, earliest: datetime) -> None:
    assert earliest_call(now, DEFAULT) == earliest


def test_quiet_hours_are_read_in_the_lines_timezone() -> None:
    utc_afternoon = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert earliest_call(utc_afternoon, DEFAULT) == at(8, day=24)


def test_the_daily_attempt_cap_counts_todays_attempts_only() -> None:
    yesterday = [at(10, day=22)] * 6
    assert may_call(at(10), yesterday, DEFAULT).allowed
    today = [at(9, minute) for minute in range(6)]
    decision = may_call(at(10), today, DEFAULT)
    assert not decision.allowed and decision.reason == "daily attempts used up"
    assert decision.not_before == at(8, day=24)
    assert may_call(at(10), today[:5], DEFAULT).allowed


def test_quiet_hours_come_before_the_cap() -> None:
    decision = may_call(at(23), [], DEFAULT)
    assert (decision.allowed, decision.reason, decision.not_before) == \
        (False, "quiet hours", at(8, day=24))


def test_a_line_may_set_its_own_window() -> None:
    custom = ContactSettings.model_validate({"quiet_from": "20:00", "quiet_until": "09:00",
                                             "daily_attempts": 2})
    assert not may_call(at(20, 30), [], custom).allowed
    assert not may_call(at(12), [at(9), at(11)], custom).allowed


def shipped_line() -> LineSettings:
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    return menus.line


def cst(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


@pytest.mark.parametrize(("now", "earliest"), [
    (cst(11, 23, 10), cst(11, 23, 10)),  # a Monday, open: now
    (cst(11, 23, 21, 30), cst(11, 24, 8)),  # closed at 21:00 (and quiet from 22:00)
    (cst(10, 1, 11), cst(10, 8, 8)),  # National Day week: the first working day after it
    (cst(10, 7, 23), cst(10, 8, 8)),
    (cst(2, 14, 10), cst(2, 14, 10)),  # a Saturday worked before the Spring Festival ...
    (cst(2, 15, 10), cst(2, 24, 8)),  # ... then nine days off
    (cst(9, 20, 12), cst(9, 20, 12)),  # Sunday worked before National Day: Monday hours
    (cst(9, 25, 9), cst(9, 28, 8)),  # Mid-Autumn Festival
    (cst(4, 4, 9), cst(4, 7, 8)),  # Qingming
    (cst(5, 1, 9), cst(5, 6, 8)),  # Labour Day
    (cst(6, 19, 9), cst(6, 22, 8)),  # Dragon Boat Festival
])
def test_callbacks_are_booked_inside_business_hours_never_on_holidays(
        now: datetime, earliest: datetime) -> None:
    assert earliest_contact(now, shipped_line()) == earliest


def test_the_dialler_defers_a_holiday_attempt_to_the_next_working_day() -> None:
    decision = may_dial(cst(10, 2, 10), [], shipped_line())
    assert not decision.allowed and decision.not_before == cst(10, 8, 8)
    assert decision.reason == "outside business hours"
    assert may_dial(cst(10, 8, 9), [], shipped_line()).allowed


def test_hours_that_never_open_are_refused_not_looped_on() -> None:
    line = shipped_line()
    closed = line.model_copy(update={"business_hours": {"service": line.business_hours[
        "service"].model_copy(update={"weekly": {}})}})
    with pytest.raises(NoOpening):
        earliest_contact(cst(11, 23, 10), closed)


@pytest.mark.parametrize(("keyed", "dialled"), [
    ("13912345678", "13912345678"),  # mobile
    ("02088886666", "02088886666"),  # Guangzhou landline with its area code
    ("075588886666", "075588886666"),
    ("8613912345678", "13912345678"),  # with the country code
    ("88886666", None),  # a landline without its area code
    ("12345", None),
    ("99999999999", None),
    ("", None),
])
def test_callback_numbers_are_chinese_mobiles_or_landlines(keyed: str,
                                                           dialled: str | None) -> None:
    assert dialable(keyed) == dialled


def test_a_keyed_number_is_checked_read_back_and_confirmed() -> None:
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    result = run_transcript(menus, Transcript.model_validate({
        "name": "t", "at": "2026-11-23T10:00:00+08:00", "caller_number": "anonymous",
        "steps": [{"press": "1"}, {"press": "2"}, {"press": "3"},
                  {"expect_prompt": "queue.callback_offer"}, {"press": "1"},
                  {"expect_prompt": "callback.queue_offer"}, {"press": "2"},
                  {"press": "88886666#"}, {"expect_prompt": "callback.number_invalid"},
                  {"press": "02088886666#"}, {"expect_prompt": "callback.number_is"},
                  {"press": "1"}, {"expect_prompt": "callback.done"}],
        "queue_load": {"waiting": 6, "ready_agents": 0, "logged_agents": 2},
        "expect": {"outcome": "hangup", "events": ["callback-requested"]}}))
    assert result.passed, result.failures
    played = [p for p, _ in result.caller.played]
    start = played.index("callback.number_is")
    assert played[start + 1:start + 12] == [
        "say.d0", "say.d2", "say.d0", "say.d8", "say.d8", "say.d8", "say.d8", "say.d6",
        "say.d6", "say.d6", "say.d6"]
    booked = next(d for k, d in result.caller.events if k == "callback-requested")
    assert booked["number"] == "02088886666" and booked["queue"] == "cards"
    summary = next(d for k, d in result.caller.events if k == "ivr-finished")
    assert "02088886666" not in str(summary)
