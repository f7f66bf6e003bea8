"""Weeks of made-up call history for demos and the README's screenshots: calls with their IVR
paths, queue legs, wrap-ups, surveys, complaints and recordings waiting to be registered.

The same seed and `now` give the same history. Every caller is fictional and appears only as
a masked number, as real records do; no full number, name or account is made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.complaints import advance, open_complaint
from db.models import Call, QueueLeg, Recording, RecordingStatus, Survey, WrapUp
from ivr.matching import luhn_check_digit

WELCOME = "welcome.start>welcome.language>main.menu"


@dataclass(frozen=True)
class Journey:
    """One kind of call, as the menus in menus/ route it."""

    weight: int
    queue: str  # the menu's queue (service line)
    language: str  # what the caller picked: a language or a dialect
    intent: str
    path: str  # after the welcome
    agents: tuple[str, ...]  # who answers it (routing/agents.yaml)
    dispositions: tuple[str, ...]  # what those agents pick after it (console/dispositions.yaml)


JOURNEYS = (
    Journey(26, "cards", "cmn", "card-repayment", "cards.menu>cards.repayment",
            ("cards-cmn-1", "cards-en-1"), ("resolved", "resolved", "plan-agreed")),
    Journey(10, "cards-priority", "cmn", "lost-card", "cards.menu>cards.lost>cards.lost_agent",
            ("cards-cmn-1",), ("card-frozen", "card-replaced")),
    Journey(7, "cards-disputes", "yue", "card-dispute",
            "cards.menu>cards.disputes>cards.dispute_agent", ("cards-yue-1",),
            ("dispute-opened", "resolved")),
    Journey(12, "loans", "cmn", "loans-general", "loans.menu>loans.agent", ("loans-1",),
            ("resolved", "callback-needed")),
    Journey(9, "collections", "cmn", "repayment-plan",
            "collections.start>collections.menu>collections.plan", ("collections-1",),
            ("plan-agreed", "payment-promised", "hardship")),
    Journey(5, "inclusive", "hak", "inclusive-loans",
            "inclusive.menu>inclusive.dialect>inclusive.dialect_agent", ("inclusive-hak-1",),
            ("resolved", "callback-needed")),
    Journey(4, "inclusive", "nan", "inclusive-loans",
            "inclusive.menu>inclusive.dialect>inclusive.dialect_agent", ("inclusive-nan-1",),
            ("resolved",)),
    Journey(4, "complaints", "cmn", "complaint-fees",
            "complaints.start>complaints.category>complaints.agent", ("complaints-1",),
            ("complaint-taken",)),
    Journey(4, "general", "en", "cards-general", "agent.general", ("cards-en-1",),
            ("resolved", "transferred")),
)
SELF_SERVICE = ("cards.menu>cards.statement", "loans.menu>loans.lookup>loans.status",
                "inclusive.menu>inclusive.service_points")
SCORES = (5,) * 10 + (4,) * 8 + (3, 2)  # about 9 in 10 satisfied: near the line's goal


@dataclass
class SeededHistory:
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    complaints: list[str] = field(default_factory=list)  # ticket numbers
    recordings: list[Path] = field(default_factory=list)  # pending rows: files to put here


def seed_history(session: Session, *, now: datetime, days: int = 28,
                 recordings_dir: Path | None = None, recorded_days: int = 2,
                 timezone: str = "Asia/Shanghai", seed: int = 2026) -> SeededHistory:
    """Adds `days` of history ending at `now` (service hours 08:00-21:00 local). Calls of the
    last `recorded_days` that agents answered get a pending recording at
    `<recordings_dir>/<call id>.wav`, for the caller to fill and the registrar to store."""
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    history = SeededHistory()
    today = now.astimezone(zone).date()
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        busy = 0.7 if day.weekday() >= 5 else 1.0
        opening = datetime.combine(day, time(8), zone).astimezone(UTC)
        for number in range(round(rng.randint(30, 55) * busy)):
            started = opening + timedelta(seconds=rng.randint(0, 13 * 3600))
            if started >= now:
                continue
            call_id = f"{started.timestamp():.0f}.{number}"
            recorded = recordings_dir is not None and back < recorded_days
            _add_call(session, rng, history, call_id, started, recordings_dir if recorded
                      else None, zone, now)
    return history


def _add_call(session: Session, rng: random.Random, history: SeededHistory, call_id: str,
              started: datetime, recordings_dir: Path | None, zone: ZoneInfo,
              now: datetime) -> None:
    history.calls += 1
    caller = f"*******{rng.randint(0, 9999):04d}"
    if rng.random() < 0.18:
        session.add(Call(call_id=call_id, caller_masked=caller, started_at=started,
                         ended_at=started + timedelta(seconds=rng.randint(40, 150)),
                         language="cmn", outcome="hangup", verified="pin",
                         path=f"{WELCOME}>{rng.choice(SELF_SERVICE)}>common.goodbye"))
        return
    journey = rng.choices(JOURNEYS, weights=[j.weight for j in JOURNEYS])[0]
    joined = started + timedelta(seconds=rng.randint(25, 70))
    wait = int(rng.expovariate(1 / 11))  # about 8 in 10 answered within 20 s
    patience = 5 + int(rng.expovariate(1 / 150))
    answered = wait <= patience
    wait = wait if answered else patience
    talk = rng.randint(90, 600) if answered else None
    ended = joined + timedelta(seconds=wait + (talk or 0))
    agent = rng.choice(journey.agents) if answered else None
    session.add(Call(call_id=call_id, caller_masked=caller, started_at=started,
                     ended_at=ended, language=journey.language, outcome="queue",
                     intent=journey.intent, queue=journey.queue,
                     path=f"{WELCOME}>{journey.path}"))
    session.flush()
    session.add(QueueLeg(call_id=call_id, queue=f"{journey.queue}-{journey.language}",
                         joined_at=joined, position=rng.randint(1, 3),
                         result="answered" if answered else "abandoned",
                         ended_at=joined + timedelta(seconds=wait), wait_s=wait, agent=agent,
                         talk_s=talk, completed_at=ended if answered else None))
    if not answered:
        history.abandoned += 1
        return
    history.answered += 1
    session.add(WrapUp(call_id=call_id, agent=agent, at=ended + timedelta(seconds=20),
                       disposition=rng.choice(journey.dispositions)))
    if rng.random() < 0.6:
        session.add(Survey(event_id=f"survey-{call_id}", call_id=call_id,
                           at=ended + timedelta(seconds=30), queue=journey.queue, agent=agent,
                           score=rng.choice(SCORES), by_voice=rng.random() < 0.3))
    if recordings_dir is not None:
        path = recordings_dir / f"{call_id}.wav"
        session.add(Recording(call_id=call_id, path=str(path),
                              status=RecordingStatus.PENDING, category="pending"))
        history.recordings.append(path)
    if journey.queue == "complaints":
        category = rng.choice(("complaint-service", "complaint-fees", "complaint-fees",
                               "complaint-collections", "complaint-other"))
        _add_complaint(session, history, call_id, category, ended, zone, now)


def _add_complaint(session: Session, history: SeededHistory, call_id: str, category: str,
                   filed: datetime, zone: ZoneInfo, now: datetime) -> None:
    body = f"{filed.astimezone(zone):%y%m%d}{len(history.complaints) + 1:04d}"
    ticket = body + luhn_check_digit(body)
    complaint = open_complaint(session, ticket=ticket, call_id=call_id,
                               category=category, opened_at=filed)
    # Older ones answered, then settled; the newest still new.
    for status, after in (("assigned", timedelta(hours=2)), ("replied", timedelta(hours=20)),
                          ("resolved", timedelta(days=3))):
        if filed + after < now:
            advance(complaint, status, filed + after, assignee="complaints-1")
    history.complaints.append(ticket)
