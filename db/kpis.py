"""Call-centre KPIs for a period, from the call records. Definitions (also in the README):

- calls: calls that started in the period.
- IVR containment: calls the IVR finished itself (outcome `hangup`, never queued) ÷ calls.
- service level: queue legs answered within N s (default 20) ÷ (answered + abandoned); the
  variant leaves out short abandons (callers who gave up within 5 s).
- average speed of answer: mean wait of answered legs.
- abandonment rate: abandoned ÷ (answered + abandoned), with the queue positions callers
  abandoned at.
- average handle time: mean agent talk time of answered legs.
- first-contact resolution: calls with a known caller and matter (intent) not followed by
  another call from the same caller about the same matter within N days (default 7).
- callbacks kept: booked callbacks the customer answered.
- complaint reply compliance: complaints opened in the period replied to within their
  deadline ÷ those whose deadline has passed or that were replied to.
- messages answered in time: callers' messages (follow-ups) left in the period done within
  their deadline (24 h) ÷ those done or past their deadline.
- agents (desk presence log): ready time, paused time by reason, talk time, and occupancy =
  talk time ÷ ready time.
- wrap-ups by disposition: what agents recorded after their calls (console/dispositions.yaml).
- satisfaction: surveys scoring 4 or 5 ÷ surveys, against the goal (90 %), also per day
  (local time), queue and agent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.follow_ups import late
from db.models import (
    Call,
    Callback,
    CallbackStatus,
    Complaint,
    FollowUp,
    QueueLeg,
    Survey,
    WrapUp,
)
from db.occupancy import AgentTime, agent_times

SATISFIED_SCORE = 4


@dataclass(frozen=True)
class KpiSettings:
    service_level_s: int = 20
    short_abandon_s: int = 5
    repeat_window_days: int = 7
    satisfaction_goal: float = 0.90
    timezone: str = "Asia/Shanghai"


@dataclass
class Satisfaction:
    surveys: int = 0
    satisfied: int = 0

    @property
    def rate(self) -> float | None:
        return ratio(self.satisfied, self.surveys)


@dataclass
class Kpis:
    since: datetime
    until: datetime
    settings: KpiSettings
    calls: int = 0
    contained: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    answered_in_time: int = 0
    waits_answered_s: list[int] = field(default_factory=list)
    talk_times_s: list[int] = field(default_factory=list)
    abandon_positions: Counter[int] = field(default_factory=Counter)
    fcr_eligible: int = 0
    fcr_resolved: int = 0
    callbacks_booked: int = 0
    callbacks_kept: int = 0
    complaints_counted: int = 0
    complaints_in_time: int = 0
    follow_ups_counted: int = 0
    follow_ups_in_time: int = 0
    satisfaction: Satisfaction = field(default_factory=Satisfaction)
    satisfaction_by_day: dict[str, Satisfaction] = field(default_factory=dict)
    satisfaction_by_queue: dict[str, Satisfaction] = field(default_factory=dict)
    satisfaction_by_agent: dict[str, Satisfaction] = field(default_factory=dict)
    agents: dict[str, AgentTime] = field(default_factory=dict)  # from the presence log
    dispositions: Counter[str] = field(default_factory=Counter)  # agents' wrap-ups

    @property
    def containment(self) -> float | None:
        return ratio(self.contained, self.calls)

    @property
    def service_level(self) -> float | None:
        return ratio(self.answered_in_time, self.answered + self.abandoned)

    @property
    def service_level_without_short_abandons(self) -> float | None:
        return ratio(self.answered_in_time,
                     self.answered + self.abandoned - self.short_abandons)

    @property
    def average_speed_of_answer_s(self) -> float | None:
        return fmean(self.waits_answered_s) if self.waits_answered_s else None

    @property
    def abandonment(self) -> float | None:
        return ratio(self.abandoned, self.answered + self.abandoned)

    @property
    def average_handle_time_s(self) -> float | None:
        return fmean(self.talk_times_s) if self.talk_times_s else None

    @property
    def first_contact_resolution(self) -> float | None:
        return ratio(self.fcr_resolved, self.fcr_eligible)

    @property
    def callbacks_kept_rate(self) -> float | None:
        return ratio(self.callbacks_kept, self.callbacks_booked)

    @property
    def complaint_reply_compliance(self) -> float | None:
        return ratio(self.complaints_in_time, self.complaints_counted)

    @property
    def follow_ups_on_time(self) -> float | None:
        return ratio(self.follow_ups_in_time, self.follow_ups_counted)

    def rows(self, formats: Formats | None = None) -> list[tuple[str, str]]:
        """(measure, value) for tables and CSV; `formats` words and writes them (the
        console's translate them, the command line's are plain English)."""
        f = formats or PlainFormats()
        s = self.settings
        return [
            (f.label(N_("calls")), f.count(self.calls)),
            (f.label(N_("IVR containment")), f.percent(self.containment)),
            (f.label(N_("service level ({seconds} s)"), seconds=s.service_level_s),
             f.percent(self.service_level)),
            (f.label(N_("service level without abandons under {seconds} s"),
                     seconds=s.short_abandon_s),
             f.percent(self.service_level_without_short_abandons)),
            (f.label(N_("average speed of answer")), f.seconds(self.average_speed_of_answer_s)),
            (f.label(N_("abandonment rate")), f.percent(self.abandonment)),
            (f.label(N_("abandoned at queue position")),
             ", ".join(f"{p}: {f.count(n)}" for p, n in sorted(self.abandon_positions.items()))
             or "-"),
            (f.label(N_("average handle time")), f.seconds(self.average_handle_time_s)),
            (f.label(N_("first-contact resolution ({days} days)"), days=s.repeat_window_days),
             f.percent(self.first_contact_resolution)),
            (f.label(N_("callbacks kept")),
             f"{f.count(self.callbacks_kept)}/{f.count(self.callbacks_booked)}"),
            (f.label(N_("complaints replied within deadline")),
             f.percent(self.complaint_reply_compliance)),
            (f.label(N_("messages answered within deadline")),
             f"{f.percent(self.follow_ups_on_time)} ({f.count(self.follow_ups_in_time)}/"
             f"{f.count(self.follow_ups_counted)})"),
            (f.label(N_("wrap-ups by disposition")),
             ", ".join(f"{f.disposition(d)}: {f.count(n)}"
                       for d, n in sorted(self.dispositions.items(), key=lambda i: (-i[1], i[0])))
             or "-"),
            (f.label(N_("satisfaction")),
             f.label(N_("{rate} (goal {goal}, {surveys} surveys)"),
                     rate=f.percent(self.satisfaction.rate),
                     goal=f.percent(s.satisfaction_goal),
                     surveys=f.count(self.satisfaction.surveys))),
        ]


def N_(message: str) -> str:  # noqa: N802 - gettext's mark: the console translates it
    return message


class Formats(Protocol):
    """How a report words its labels and writes its figures."""

    def label(self, text: str, **params: object) -> str: ...
    def count(self, value: int) -> str: ...
    def percent(self, value: float | None) -> str: ...
    def seconds(self, value: float | None) -> str: ...
    def disposition(self, code: str) -> str: ...


class PlainFormats:
    """English labels, figures as the command line and CSV files have always had them."""

    def label(self, text: str, **params: object) -> str:
        return text.format(**params)

    def count(self, value: int) -> str:
        return str(value)

    def percent(self, value: float | None) -> str:
        return percent(value)

    def seconds(self, value: float | None) -> str:
        return seconds(value)

    def disposition(self, code: str) -> str:
        return code


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def compute(session: Session, since: datetime, until: datetime, now: datetime,
            settings: KpiSettings = KpiSettings()) -> Kpis:
    kpis = Kpis(since, until, settings)
    calls = session.scalars(select(Call).where(Call.started_at >= since,
                                               Call.started_at < until)).all()
    queued = set(session.scalars(select(QueueLeg.call_id).where(
        QueueLeg.call_id.in_([c.call_id for c in calls]))).all())
    kpis.calls = len(calls)
    kpis.contained = sum(1 for c in calls if c.outcome == "hangup" and c.call_id not in queued)
    _queue_legs(session, kpis)
    _first_contact(session, kpis, calls)
    callbacks = session.scalars(select(Callback).where(Callback.booked_at >= since,
                                                       Callback.booked_at < until)).all()
    kpis.callbacks_booked = len(callbacks)
    kpis.callbacks_kept = sum(1 for c in callbacks if c.status == CallbackStatus.DONE)
    for complaint in session.scalars(select(Complaint).where(
            Complaint.opened_at >= since, Complaint.opened_at < until)):
        if complaint.replied_at is not None:
            kpis.complaints_counted += 1
            kpis.complaints_in_time += complaint.replied_at <= complaint.reply_due
        elif complaint.reply_due < now:
            kpis.complaints_counted += 1  # missed, still unanswered
    for follow_up in session.scalars(select(FollowUp).where(
            FollowUp.opened_at >= since, FollowUp.opened_at < until)):
        if follow_up.done_at is not None or follow_up.due_at < now:
            kpis.follow_ups_counted += 1
            kpis.follow_ups_in_time += not late(follow_up, now)
    _satisfaction(session, kpis)
    kpis.agents = agent_times(session, since, until, now)
    kpis.dispositions = Counter(session.scalars(select(WrapUp.disposition).where(
        WrapUp.at >= since, WrapUp.at < until)))
    return kpis


def _queue_legs(session: Session, kpis: Kpis) -> None:
    s = kpis.settings
    for leg in session.scalars(select(QueueLeg).where(QueueLeg.joined_at >= kpis.since,
                                                      QueueLeg.joined_at < kpis.until)):
        wait_s = leg.wait_s or 0
        if leg.result == "answered":
            kpis.answered += 1
            kpis.waits_answered_s.append(wait_s)
            kpis.answered_in_time += wait_s <= s.service_level_s
            if leg.talk_s is not None:
                kpis.talk_times_s.append(leg.talk_s)
        elif leg.result == "abandoned":
            kpis.abandoned += 1
            kpis.short_abandons += wait_s < s.short_abandon_s
            if leg.abandon_position is not None:
                kpis.abandon_positions[leg.abandon_position] += 1


def _first_contact(session: Session, kpis: Kpis, calls: Sequence[Call]) -> None:
    window = timedelta(days=kpis.settings.repeat_window_days)
    matters = [c for c in calls if c.caller_key and c.intent and c.started_at]
    if not matters:
        return
    later = session.scalars(select(Call).where(
        Call.caller_key.in_({c.caller_key for c in matters}),
        Call.started_at >= kpis.since, Call.started_at < kpis.until + window)).all()
    for call in matters:
        started = call.started_at
        repeated = started is not None and any(
            other.call_id != call.call_id and other.caller_key == call.caller_key
            and other.intent == call.intent and other.started_at is not None
            and started < other.started_at <= started + window for other in later)
        kpis.fcr_eligible += 1
        kpis.fcr_resolved += not repeated


def _satisfaction(session: Session, kpis: Kpis) -> None:
    local = ZoneInfo(kpis.settings.timezone)
    for survey in session.scalars(select(Survey).where(Survey.at >= kpis.since,
                                                       Survey.at < kpis.until)):
        satisfied = survey.score >= SATISFIED_SCORE
        groups = [kpis.satisfaction,
                  kpis.satisfaction_by_day.setdefault(f"{survey.at.astimezone(local):%Y-%m-%d}",
                                                      Satisfaction()),
                  kpis.satisfaction_by_queue.setdefault(survey.queue or "-", Satisfaction()),
                  kpis.satisfaction_by_agent.setdefault(survey.agent or "-", Satisfaction())]
        for group in groups:
            group.surveys += 1
            group.satisfied += satisfied
