"""The supervisors' wallboard: every queue now (Asterisk's QueueStatus, pbx.queue_board)
beside its figures for today (the call records), as one JSON-ready state for the page and
its server-sent event stream. Callers appear by masked number only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.kpi_series import Bucket, queues_since
from db.kpis import KpiSettings, ratio
from pbx.queue_board import QueueNow


def floor_state(session: Session, board: list[QueueNow] | None, now: datetime,
                timezone: str) -> dict[str, Any]:
    """{"asterisk": bool, "totals": {...}, "queues": [...]}: `board` None when Asterisk did
    not answer (the day's figures still show). Queues where callers wait come first, the
    longest wait on top, then those busy now or today; idle ones last, marked idle."""
    local = ZoneInfo(timezone)
    midnight = datetime.combine(now.astimezone(local).date(), time(0), local)
    today = queues_since(session, midnight, KpiSettings(timezone=timezone))
    live = {queue.queue: queue for queue in board or []}
    queues: list[dict[str, Any]] = []
    for name in sorted(set(live) | set(today)):
        queue = live.get(name, QueueNow(name))
        figures = today.get(name)
        level = figures.service_level if figures else None
        queues.append({
            "queue": name, "waiting": len(queue.waiting), "longest_wait_s": queue.longest_wait_s,
            "callers": [asdict(caller) for caller in queue.waiting],
            "ready": queue.ready, "on_call": queue.on_call, "ringing": queue.ringing,
            "paused": queue.paused, "offline": queue.offline,
            "answered_today": figures.answered if figures else 0,
            "abandoned_today": figures.abandoned if figures else 0,
            "service_level_today": _percent(level),
            "idle": not (queue.waiting or queue.on_call or queue.ringing or figures)})
    queues.sort(key=lambda q: (-q["waiting"], -q["longest_wait_s"],
                               -(q["on_call"] + q["ringing"]),
                               -(q["answered_today"] + q["abandoned_today"])))
    return {"asterisk": board is not None, "totals": _totals(queues, today.values()),
            "queues": queues}


def _totals(queues: list[dict[str, Any]], today: Iterable[Bucket]) -> dict[str, Any]:
    """The whole line: agents are left out, as one agent serves many queues."""
    figures = list(today)
    answered = sum(f.answered for f in figures)
    abandoned = sum(f.abandoned for f in figures)
    in_time = sum(f.answered_in_time for f in figures)
    return {"waiting": sum(q["waiting"] for q in queues),
            "longest_wait_s": max((q["longest_wait_s"] for q in queues if q["waiting"]),
                                  default=0),
            "answered_today": answered, "abandoned_today": abandoned,
            "service_level_today": _percent(ratio(in_time, answered + abandoned))}


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
