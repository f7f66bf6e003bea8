"""Printing what operators, callers and the database wrote, never as rich markup.

A hold reason or a complaint field may hold `[/]`, which rich reads as a closing tag and
refuses: the command would then fail on that row forever (audit entries are append-only).
Data goes to the terminal as plain text: table cells through `DataTable`, values inside a
styled line through `plain`.
"""

from __future__ import annotations

import csv
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text


class DataTable(Table):
    """A rich Table whose string cells are shown as written, not parsed as markup."""

    def add_row(self, *renderables: Any, **options: Any) -> None:
        cells = [Text(cell) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, **options)


def print_rows(console: Console, columns: list[str], values: list[list[str]], title: str,
               flag_column: int, as_csv: bool) -> None:
    """Rows as CSV on stdout, or as a table whose rows with a value in `flag_column` (a
    missed deadline) are red."""
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(values)
        return
    table = DataTable(*columns, title=title)
    for row in values:
        table.add_row(*row, style="red" if row[flag_column] else None)
    console.print(table)


def plain(value: object) -> str:
    """A value to put inside a line that carries markup of its own."""
    return escape(str(value))
