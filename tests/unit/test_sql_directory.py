"""Lookups during calls come from the database: by calling number, account or card, with
the attributes routing and prompts use; a database that is down is reported, not raised
into the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.database import make_engine
from db.directory import YamlDirectory
from db.sample_data import SampleDataError, load_sample_customers, store_customers
from db.sql_directory import SqlDirectory
from ivr.directory import CustomerRecord, InMemoryDirectory
from ivr.ports import DirectoryUnavailable
from ivr.transcripts import load_transcript

SAMPLES = Path(__file__).resolve().parents[2] / "db" / "sample_customers.yaml"


@pytest.fixture
def samples(engine: Engine) -> Engine:
    assert load_sample_customers(engine, SAMPLES) == 3
    assert load_sample_customers(engine, SAMPLES) == 3  # loading again updates, no duplicates
    return engine


@pytest.mark.parametrize(("by", "value"), [("caller_number", "13800000001"),
                                           ("caller_number", "13800000002"),
                                           ("caller_number", "13800000003"),
                                           ("account", "6200000000001"),
                                           ("account", "6200000000002")])
def test_the_database_answers_like_the_sample_file(samples: Engine, by: str,
                                                   value: str) -> None:
    from_db = SqlDirectory(samples).find_customer(by, value)
    from_file = YamlDirectory(SAMPLES).find_customer(by, value)
    assert from_db is not None and from_file is not None
    assert from_db.customer_id == from_file.customer_id
    assert from_db.attributes == from_file.attributes


def test_unknown_callers_and_ways_are_not_found(samples: Engine) -> None:
    directory = SqlDirectory(samples)
    assert directory.find_customer("caller_number", "13999999999") is None
    assert directory.find_customer("card", "6200000000001") is None  # an account, not a card
    assert directory.find_customer("passport", "x") is None


def test_a_database_that_is_down_is_reported_as_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    with pytest.raises(DirectoryUnavailable):
        SqlDirectory(engine).find_customer("caller_number", "13800000001")


def test_account_figures_without_an_account_are_refused_not_dropped(engine: Engine) -> None:
    record = CustomerRecord(customer_id="C9", phones=["13900000009"],
                            attributes={"days_overdue": 35, "overdue_amount": "3200.00"})
    with pytest.raises(SampleDataError, match="overdue_amount, days_overdue"):
        store_customers(engine, [record])
    assert SqlDirectory(engine).find_customer("caller_number", "13900000009") is None


TRANSCRIPTS = sorted((SAMPLES.parents[1] / "menus" / "transcripts").glob("*.yaml"))


@pytest.mark.parametrize("file", TRANSCRIPTS, ids=[f.stem for f in TRANSCRIPTS])
def test_a_transcript_s_customers_stored_answer_like_the_transcript(engine: Engine,
                                                                    file: Path) -> None:
    """The load benchmark stores its transcripts' customers and dials them against the
    database: it must answer what the transcript says of them as the transcript's own
    directory does (the database adds its defaults: not VIP, 0 days overdue)."""
    customers = load_transcript(file).customers
    store_customers(engine, customers)
    in_memory = InMemoryDirectory(customers)
    for customer in customers:
        lookups = [("caller_number", n) for n in customer.phones] + \
            [("account", n) for n in customer.accounts]
        for by, value in lookups:
            from_db = SqlDirectory(engine).find_customer(by, value)
            expected = in_memory.find_customer(by, value)
            assert from_db is not None and expected is not None, (by, value)
            given = {name: from_db.attributes.get(name) for name in expected.attributes}
            assert given == expected.attributes, (by, value)
