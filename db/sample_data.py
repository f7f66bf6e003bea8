"""Sample customers and accounts for demos, from the same YAML the file directory reads
(db/sample_customers.yaml). Loading is idempotent: existing rows are updated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import Engine

from db.database import sessions
from db.directory import SampleCustomers
from db.models import Account, Customer, PhoneNumber
from ivr.yamlsource import YamlRefused, safe_load


class SampleDataError(ValueError):
    pass


def load_sample_customers(engine: Engine, file: Path) -> int:
    try:
        raw = safe_load(file)
        records = SampleCustomers.model_validate(raw).customers
    except (OSError, yaml.YAMLError, YamlRefused, ValidationError) as exc:
        raise SampleDataError(f"{file}: {exc}") from exc
    with sessions(engine)() as session, session.begin():
        for record in records:
            attributes = record.attributes
            language = attributes.get("preferred_language")
            session.merge(Customer(customer_id=record.customer_id,
                                   vip=bool(attributes.get("vip", False)),
                                   preferred_language=str(language) if language else None))
            for number in record.phones:
                session.merge(PhoneNumber(number=number, customer_id=record.customer_id))
            balance = attributes.get("balance")
            due = attributes.get("due_date")
            for kind, numbers in (("account", record.accounts), ("card", record.cards)):
                for number in numbers:
                    session.merge(Account(
                        account_no=number, customer_id=record.customer_id, kind=kind,
                        status=str(attributes.get("card_status", "active")),
                        balance=Decimal(str(balance)) if balance is not None else None,
                        due_date=date.fromisoformat(str(due)) if due else None,
                        days_overdue=int(attributes.get("days_overdue", 0))))
    return len(records)
