"""Business hours with a holiday calendar and worked weekend days (调休).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from ivr.menu_schema import WEEKDAYS, BusinessHours, span_bounds


def is_open(hours: BusinessHours, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(hours.timezone))
    day = local.date()
    if day in hours.holidays:
        return False
    weekday = hours.workday if day in hours.extra_workdays else WEEKDAYS[local.weekday()]
    now = local.time()
    for span in hours.weekly.get(weekday, []):
        start, end = span_bounds(span)
        if start <= now and (end is None or now < end):
            return True
    return False


def time_between(at: datetime, start: time, end: time) -> bool:
    """[start, end) in local time of `at`; a span like 22:00-08:00 wraps past midnight."""
    now = at.time()
    if start <= end:
        return start <= now < end
    return now >= start or now < end
