"""Complaint ticket numbers: `YYMMDD` (the line's local date) + a 4-digit sequence of the day
+ a Luhn check digit, so a ticket a customer reads back with one digit wrong is caught.

The sequence lives in a small file per day beside the spool, advanced under an exclusive
lock (fcntl) and fsynced before the number is given out: unique across threads and FastAGI
processes on the host, and never reused after a crash. Issuing needs no database, so a
caller gets their ticket number while the database is down.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path

from ivr.matching import luhn_check_digit
from ivr.ports import TicketUnavailable

DAILY_LIMIT = 9999


class FileTicketIssuer:
    """`ivr.ports.TicketIssuer` over `<directory>/tickets-YYMMDD`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def issue(self, now: datetime) -> str:
        day = f"{now:%y%m%d}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.directory / f"tickets-{day}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                text = os.read(fd, 32).decode("ascii").strip()
                sequence = (int(text) if text.isdigit() else 0) + 1
                if sequence > DAILY_LIMIT:
                    raise TicketUnavailable(f"more than {DAILY_LIMIT} complaints on {day}")
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, f"{sequence}\n".encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)  # also releases the lock
        except OSError as exc:
            raise TicketUnavailable(f"ticket store: {exc.strerror}") from exc
        body = f"{day}{sequence:04d}"
        return body + luhn_check_digit(body)
