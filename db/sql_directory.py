"""The customer directory lookups use during calls, over the database's customers, phone
numbers and accounts (`hotline db load-sample` loads the demo customers).

A database that is down or slow raises DirectoryUnavailable: the menus then treat the caller
as unknown or send them to an agent, and the call goes on.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from db.database import sessions
from db.models import Account, Customer, PhoneNumber
from ivr.ports import Customer as FoundCustomer
from ivr.ports import DirectoryUnavailable

ACCOUNT_KINDS = {"account": "account", "card": "card"}


class SqlDirectory:
    """`ivr.ports.Directory` over the call-records database."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = sessions(engine)

    def find_customer(self, by: str, value: str) -> FoundCustomer | None:
        try:
            with self.sessions() as session:
                matched: Account | None = None
                if by == "caller_number":
                    customer_id = session.scalar(select(PhoneNumber.customer_id)
                                                 .where(PhoneNumber.number == value))
                elif by in ACCOUNT_KINDS:
                    matched = session.scalar(select(Account).where(
                        Account.account_no == value, Account.kind == ACCOUNT_KINDS[by]))
                    customer_id = matched.customer_id if matched else None
                else:
                    return None
                if customer_id is None:
                    return None
                customer = session.get(Customer, customer_id)
                if customer is None:
                    return None
                accounts = list(session.scalars(select(Account).where(
                    Account.customer_id == customer_id).order_by(Account.account_no)))
        except SQLAlchemyError as exc:
            raise DirectoryUnavailable(f"database: {type(exc).__name__}") from exc
        return FoundCustomer(customer.customer_id, _attributes(customer, matched, accounts))


def _attributes(customer: Customer, matched: Account | None,
                accounts: list[Account]) -> dict[str, bool | int | str]:
    """The flags and figures routing and prompts use, as the sample file spells them: the
    account the caller named, else their first one; overdue days from the worst account."""
    attributes: dict[str, bool | int | str] = {
        "vip": customer.vip,
        "days_overdue": max((a.days_overdue for a in accounts), default=0)}
    if customer.preferred_language:
        attributes["preferred_language"] = customer.preferred_language
    account = matched or (accounts[0] if accounts else None)
    if account is not None:
        attributes["card_status"] = account.status
        for name in ("balance", "minimum_due", "overdue_amount"):
            figure = getattr(account, name)
            if figure is not None:
                attributes[name] = f"{figure:.2f}"
        if account.due_date is not None:
            attributes["due_date"] = account.due_date.isoformat()
    return attributes
