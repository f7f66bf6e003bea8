"""Business hours with a holiday calendar and worked weekend days (调休).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.menu_schema import WEEKDAYS, BusinessHours, span_bounds

# How far ahead an opening is looked for: past any holiday season, short of a year.
SEARCH_DAYS = 60


def is_open(hours: BusinessHours, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(hours.timezone))
    now = local.time()
    for start, end in _spans(hours, local.date()):
        if start <= now and (end is None or now < end):
            return True
    return False


def _spans(hours: BusinessHours, day: date) -> list[tuple[time, time | None]]:
    """The day's open spans: none on a holiday, the `workday` hours on a worked weekend."""
    if day in hours.holidays:
        return []
    weekday = hours.workday if day in hours.extra_workdays else WEEKDAYS[day.weekday()]
    return sorted(span_bounds(span) for span in hours.weekly.get(weekday, []))


def next_open(hours: BusinessHours, at: datetime) -> datetime | None:
    """`at` when open then, else the next opening (local time); None when nothing opens in
    the next SEARCH_DAYS days."""
    zone = ZoneInfo(hours.timezone)
    local = at.astimezone(zone)
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        for start, end in _spans(hours, day):
            opens = datetime.combine(day, start, zone)
            closes = (datetime.combine(day, end, zone) if end is not None
                      else datetime.combine(day + timedelta(days=1), time(0), zone))
            if closes > local:
                return max(opens, local)
    return None


def time_between(at: datetime, start: time, end: time) -> bool:
    """[start, end) in local time of `at`; a span like 22:00-08:00 wraps past midnight."""
    now = at.time()
    if start <= end:
        return start <= now < end
    return now >= start or now < end
