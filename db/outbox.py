"""The outbox: notifications the hotline owes customers (an SMS confirming a card freeze, a
promise to pay or a complaint's ticket), sent through an HTTP SMS gateway with retries.

Messages are written in the same transaction as what they confirm (db.self_service), so a
freeze is never without its confirmation and a crash never sends one twice from the row's
point of view: a row is marked sent only after the gateway accepted it. A gateway that fails
or is unreachable is tried again after 1, 5, 15, 60 minutes, then the row is `failed` (an
alarm for the supervisors). Without a gateway configured nothing is sent and rows wait.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.database import sessions
from db.models import OutboxMessage, PhoneNumber

log = logging.getLogger(__name__)

RETRY_AFTER_MIN = (1, 5, 15, 60)  # then failed
GATEWAY_TIMEOUT_S = 10.0
BATCH = 50

# What each kind says (Simplified Chinese; figures from the row's data).
TEXTS = {
    "card-frozen": "【信用卡中心】您名下的信用卡已于{at}按您的电话要求冻结，解冻请联系人工客服。",
    "promise-to-pay": "【信用卡中心】您已承诺于{pay_by}前还款{amount}元，感谢您的配合。",
    "complaint-ticket":
        "【信用卡中心】您的投诉已受理，工单号{ticket}，我们将于{reply_by}前答复您。",
}


def queue_message(session: Session, customer_id: str, kind: str, data: dict[str, Any],
                  now: datetime) -> None:
    """Add a notification in the caller's transaction."""
    if kind not in TEXTS:
        raise ValueError(f"no text for outbox kind {kind!r}")
    session.add(OutboxMessage(created_at=now, customer_id=customer_id, kind=kind, data=data,
                              status="pending", attempts=0, next_try_at=now))


class GatewayError(Exception):
    """The gateway refused or could not be reached; the message is tried again later."""


Send = Callable[[str, str], None]  # (number, text); raises GatewayError


def http_gateway(url: str, timeout_s: float = GATEWAY_TIMEOUT_S) -> Send:
    """POSTs {"to": number, "text": text} as JSON; any 2xx is accepted."""

    def send(number: str, text: str) -> None:
        body = json.dumps({"to": number, "text": text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise GatewayError(f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"unreachable: {type(exc).__name__}") from exc

    return send


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxSender:
    def __init__(self, engine: Engine, send: Send) -> None:
        self.sessions = sessions(engine)
        self.send = send

    def send_due(self, now: datetime) -> SendReport:
        report = SendReport()
        with self.sessions() as session, session.begin():
            due = list(session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == "pending",
                                            OutboxMessage.next_try_at <= now)
                .order_by(OutboxMessage.id).limit(BATCH).with_for_update(skip_locked=True)))
            for message in due:
                self._send_one(session, message, now, report)
        return report

    def _send_one(self, session: Session, message: OutboxMessage, now: datetime,
                  report: SendReport) -> None:
        number = session.scalar(select(PhoneNumber.number).where(
            PhoneNumber.customer_id == message.customer_id).order_by(PhoneNumber.number))
        message.attempts += 1
        try:
            if number is None:
                raise GatewayError("no number on file")
            self.send(number, TEXTS[message.kind].format(**message.data))
        except GatewayError as exc:
            message.last_error = str(exc)[:200]
            if message.attempts > len(RETRY_AFTER_MIN):
                message.status = "failed"
                report.failed += 1
                log.error("ALARM outbox message %d (%s) failed for good: %s", message.id,
                          message.kind, exc)
            else:
                message.next_try_at = now + timedelta(
                    minutes=RETRY_AFTER_MIN[message.attempts - 1])
                report.retried += 1
            return
        message.status = "sent"
        message.sent_at = now
        report.sent += 1
