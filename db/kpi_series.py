"""KPIs over time, for the console's charts: a period cut into days (up to 62 days), weeks
(Monday to Sunday, up to a year) or months, in the line's local time, every bucket present
even when nothing happened in it (a chart's axis runs the whole period).

The measures are db.kpis's, per bucket: calls, queue legs answered and abandoned, service
level, abandonment and satisfaction; and the wrap-ups by disposition over the whole period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.kpis import SATISFIED_SCORE, KpiSettings, ratio
from db.models import Call, QueueLeg, Survey, WrapUp

MAX_DAYS_BY_DAY = 62
MAX_DAYS_BY_WEEK = 366


@dataclass
class Bucket:
    start: date
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_time: int = 0
    surveys: int = 0
    satisfied: int = 0

    @property
    def service_level(self) -> float | None:
        return ratio(self.answered_in_time, self.answered + self.abandoned)

    @property
    def abandonment(self) -> float | None:
        return ratio(self.abandoned, self.answered + self.abandoned)

    @property
    def satisfaction(self) -> float | None:
        return ratio(self.satisfied, self.surveys)


@dataclass
class KpiSeries:
    unit: str  # day | week | month
    buckets: list[Bucket]
    settings: KpiSettings
    dispositions: Counter[str] = field(default_factory=Counter)


def bucket_unit(first: date, last: date) -> str:
    days = (last - first).days + 1
    if days <= MAX_DAYS_BY_DAY:
        return "day"
    return "week" if days <= MAX_DAYS_BY_WEEK else "month"


def bucket_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_start(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def kpi_series(session: Session, first: date, last: date,
               settings: KpiSettings | None = None) -> KpiSeries:
    """The period's buckets from `first` to `last` (local days, both included)."""
    settings = settings or KpiSettings()
    local = ZoneInfo(settings.timezone)
    unit = bucket_unit(first, last)
    buckets: dict[date, Bucket] = {}
    start = bucket_start(first, unit)
    while start <= last:
        buckets[start] = Bucket(start)
        start = _next_start(start, unit)
    since = datetime.combine(first, time(0), local)
    until = datetime.combine(last + timedelta(days=1), time(0), local)

    def bucket(moment: datetime) -> Bucket:
        return buckets[bucket_start(moment.astimezone(local).date(), unit)]

    for started in session.scalars(select(Call.started_at).where(
            Call.started_at >= since, Call.started_at < until)):
        if started is not None:
            bucket(started).calls += 1
    for joined, result, wait_s in session.execute(
            select(QueueLeg.joined_at, QueueLeg.result, QueueLeg.wait_s).where(
                QueueLeg.joined_at >= since, QueueLeg.joined_at < until)):
        leg = bucket(joined)
        if result == "answered":
            leg.answered += 1
            leg.answered_in_time += (wait_s or 0) <= settings.service_level_s
        elif result == "abandoned":
            leg.abandoned += 1
    for at, score in session.execute(select(Survey.at, Survey.score).where(
            Survey.at >= since, Survey.at < until)):
        rated = bucket(at)
        rated.surveys += 1
        rated.satisfied += score >= SATISFIED_SCORE
    dispositions = Counter(session.scalars(select(WrapUp.disposition).where(
        WrapUp.at >= since, WrapUp.at < until)))
    return KpiSeries(unit, list(buckets.values()), settings, dispositions)


def queues_since(session: Session, since: datetime,
                 settings: KpiSettings | None = None) -> dict[str, Bucket]:
    """Each queue's legs answered and abandoned since `since` (the wallboard's today)."""
    settings = settings or KpiSettings()
    found: dict[str, Bucket] = {}
    for queue, result, wait_s in session.execute(
            select(QueueLeg.queue, QueueLeg.result, QueueLeg.wait_s).where(
                QueueLeg.joined_at >= since)):
        leg = found.setdefault(queue, Bucket(since.date()))
        if result == "answered":
            leg.answered += 1
            leg.answered_in_time += (wait_s or 0) <= settings.service_level_s
        elif result == "abandoned":
            leg.abandoned += 1
    return found
