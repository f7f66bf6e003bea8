"""Calling customers back: quiet hours and attempts per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ivr.contact_policy import ContactSettings, earliest_call, may_call

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
