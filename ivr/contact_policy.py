"""When the hotline may call a customer back: never inside the quiet hours (default 22:00 to
08:00 local time) and at most `daily_attempts` times per number per local day, every attempt
counted. Used when a callback is booked (its earliest time) and by whatever dials it.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field


class ContactSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quiet_from: time = Field(time(22, 0), description="No calls to customers from ...")
    quiet_until: time = Field(time(8, 0), description="... until (local time).")
    daily_attempts: int = Field(6, ge=1, le=20, description="Attempts per number per day.")
    timezone: str = "Asia/Shanghai"
    business_hours: str | None = Field(None, description=(
        "Callbacks are dialled only while these business hours (line.business_hours) are "
        "open, never on their holidays; none: at any time outside the quiet hours."))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    not_before: datetime  # the earliest time an attempt is allowed (now when allowed)
    reason: str


def _quiet(local: time, settings: ContactSettings) -> bool:
    start, end = settings.quiet_from, settings.quiet_until
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the quiet hours cross midnight


def earliest_call(now: datetime, settings: ContactSettings) -> datetime:
    """`now`, or the end of the quiet hours it falls in (timezone-aware, local time)."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    if not _quiet(local.time(), settings):
        return local
    end = local.replace(hour=settings.quiet_until.hour, minute=settings.quiet_until.minute,
                        second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


def may_call(now: datetime, attempts: list[datetime], settings: ContactSettings) -> Decision:
    """May we dial a number now, given the attempts already made on it?"""
    local = now.astimezone(ZoneInfo(settings.timezone))
    earliest = earliest_call(local, settings)
    if earliest > local:
        return Decision(False, earliest, "quiet hours")
    today = [a for a in attempts
             if a.astimezone(ZoneInfo(settings.timezone)).date() == local.date()]
    if len(today) >= settings.daily_attempts:
        tomorrow = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return Decision(False, earliest_call(tomorrow, settings), "daily attempts used up")
    return Decision(True, local, "allowed")
