"""Operator and caller text reaches the terminal as written: never read as rich markup.

Attack: a hold reason or a complaint field holding `[/]` made `hotline audit` and
`hotline complaints` crash on that row, for good (the audit log is append-only)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db import audit
from db.audit import AuditSeal, seal_session
from db.models import Complaint
from hotline.cli import app
from runtime.settings import Settings

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MARKUP = "[/] [bold]x[/red] [link=file:///etc]"


def test_markup_in_stored_text_is_printed_as_written(
        records_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", records_url)
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("HOTLINE_RUNTIME_DIR", str(tmp_path / "var"))
    with Session(engine) as session, session.begin():
        seal_session(session, AuditSeal.load(Settings.from_env().secrets_dir))
        audit.record(session, AT, "sup1", "hold", "recording:1", f"reason {MARKUP}")
        session.add(Complaint(ticket="26112300012", category=MARKUP, opened_at=AT,
                              reply_due=AT, resolution_due=AT, description_ref=MARKUP,
                              transcript=MARKUP, assigned_to=MARKUP))
    runner = CliRunner()
    for command in (["audit"], ["complaints"], ["complaints", "show", "26112300012"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
        assert "[/]" in result.output and "[bold]x[/red]" in result.output, result.output
