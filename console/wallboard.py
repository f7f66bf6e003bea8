"""The supervisors' wallboard: every queue now (Asterisk's QueueStatus, pbx.queue_board)
beside its figures for today (the call records), as one JSON-ready state for the page and
its server-sent event stream. Callers appear by masked number only."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.kpi_series import queues_since
from db.kpis import KpiSettings
from pbx.queue_board import QueueNow


def floor_state(session: Session, board: list[QueueNow] | None, now: datetime,
                timezone: str) -> dict[str, Any]:
    """{"asterisk": bool, "queues": [...]}: `board` None when Asterisk did not answer (the
    day's figures still show)."""
    local = ZoneInfo(timezone)
    midnight = datetime.combine(now.astimezone(local).date(), time(0), local)
    today = queues_since(session, midnight, KpiSettings(timezone=timezone))
    live = {queue.queue: queue for queue in board or []}
    queues = []
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
            "service_level_today": None if level is None else round(level * 100, 1)})
    return {"asterisk": board is not None, "queues": queues}
