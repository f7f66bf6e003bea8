"""Sample customers and accounts for demos, from the same YAML the file directory reads
(db/sample_customers.yaml). Loading is idempotent: existing rows are updated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import Engine

from db.database import sessions
from db.directory import SampleCustomers
from db.models import Account, Customer, CustomerSecret, PhoneNumber, ServiceTicket
from ivr.directory import CustomerRecord
from ivr.yamlsource import YamlRefused, safe_load


class SampleDataError(ValueError):
    pass


def _money(value: object) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def load_sample_customers(engine: Engine, file: Path) -> int:
    try:
        raw = safe_load(file)
        records = SampleCustomers.model_validate(raw).customers
    except (OSError, yaml.YAMLError, YamlRefused, ValidationError) as exc:
        raise SampleDataError(f"{file}: {exc}") from exc
    return store_customers(engine, records)


# Attributes the database keeps on each of a customer's accounts and cards, not on the customer.
ACCOUNT_ATTRIBUTES = ("card_status", "balance", "minimum_due", "overdue_amount", "due_date",
                      "days_overdue")


def store_customers(engine: Engine, records: Sequence[CustomerRecord]) -> int:
    """Insert or update these customers (their phones, accounts, secrets, tickets). Refused
    (SampleDataError, nothing stored) when a customer has account figures but no account to
    hold them: they would be lost without a word."""
    for record in records:
        orphans = [name for name in ACCOUNT_ATTRIBUTES if name in record.attributes]
        if orphans and not (record.accounts or record.cards):
            raise SampleDataError(f"customer {record.customer_id}: {', '.join(orphans)} belong "
                                  "to an account or card, and none is listed")
    now = datetime.now(UTC)
    with sessions(engine)() as session, session.begin():
        for record in records:
            attributes = record.attributes
            language = attributes.get("preferred_language")
            session.merge(Customer(customer_id=record.customer_id,
                                   vip=bool(attributes.get("vip", False)),
                                   preferred_language=str(language) if language else None))
            for number in record.phones:
                session.merge(PhoneNumber(number=number, customer_id=record.customer_id))
            due = attributes.get("due_date")
            for kind, numbers in (("account", record.accounts), ("card", record.cards)):
                for number in numbers:
                    session.merge(Account(
                        account_no=number, customer_id=record.customer_id, kind=kind,
                        status=str(attributes.get("card_status", "active")),
                        balance=_money(attributes.get("balance")),
                        minimum_due=_money(attributes.get("minimum_due")),
                        overdue_amount=_money(attributes.get("overdue_amount")),
                        due_date=date.fromisoformat(str(due)) if due else None,
                        days_overdue=int(attributes.get("days_overdue", 0))))
            session.flush()  # the customer row exists before what refers to it
            for method, secret_hash in record.secrets.items():
                session.merge(CustomerSecret(customer_id=record.customer_id, method=method,
                                             secret_hash=secret_hash, set_at=now))
            for ticket in record.tickets:
                session.merge(ServiceTicket(ticket=ticket.ticket,
                                            customer_id=record.customer_id,
                                            category=ticket.category, status=ticket.status,
                                            opened_at=now))
    return len(records)
