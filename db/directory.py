"""Customer directory from a YAML file of sample customers: serves lookups for demos and
tests until the SQL directory takes over, and seeds the database's sample data.

Numbers are lookup keys only; logs never show them.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ivr.directory import CustomerRecord, InMemoryDirectory
from ivr.ports import Customer, DirectoryUnavailable
from ivr.yamlsource import YamlRefused, safe_load


class SampleCustomers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    customers: list[CustomerRecord]


def read_sample_customers(file: Path) -> list[CustomerRecord]:
    """The customers of a sample file. Raises DirectoryUnavailable."""
    try:
        return SampleCustomers.model_validate(safe_load(file)).customers
    except (OSError, yaml.YAMLError, YamlRefused, ValidationError) as exc:
        raise DirectoryUnavailable(f"{file.name}: {type(exc).__name__}") from exc


class YamlDirectory:
    """`ivr.ports.Directory` over a YAML file, read on first use."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._directory: InMemoryDirectory | None = None

    def find_customer(self, by: str, value: str) -> Customer | None:
        if self._directory is None:
            self._directory = InMemoryDirectory(read_sample_customers(self.file))
        return self._directory.find_customer(by, value)
