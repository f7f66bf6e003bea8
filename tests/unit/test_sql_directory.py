"""Lookups during calls come from the database: by calling number, account or card, with
the attributes routing and prompts use; a database that is down is reported, not raised
into the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.database import make_engine
from db.directory import YamlDirectory
from db.sample_data import load_sample_customers
from db.sql_directory import SqlDirectory
from ivr.ports import DirectoryUnavailable

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
