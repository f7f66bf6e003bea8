"""A private PostgreSQL server from the distribution's packages, for tests and local trials:
its own data folder, a loopback port, a socket folder of its own, trust authentication for
the local user only. Production points HOTLINE_DATABASE_URL at a managed server instead.

PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user
the Debian package creates.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30


class PostgresError(RuntimeError):
    pass


def postgres_bin_dir() -> Path | None:
    """Debian keeps the server programs out of PATH, one folder per major version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


def ensure_postgres_installed() -> Path:
    """The server programs, installing Debian's `postgresql` when missing (needs root)."""
    found = postgres_bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise PostgresError("PostgreSQL is not installed: `apt-get install postgresql` as root")
    from runtime.host import apt_install  # only needed on a fresh machine

    apt_install("postgresql")
    found = postgres_bin_dir()
    if found is None:
        raise PostgresError("PostgreSQL was installed but its programs were not found under "
                            "/usr/lib/postgresql/*/bin")
    return found


class PostgresServer:
    def __init__(self, base_dir: Path, port: int, bin_dir: Path | None = None) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "socket"
        self.port = port
        self.bin_dir = bin_dir or ensure_postgres_installed()
        self._user = _server_user()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self._user}@127.0.0.1:{self.port}/hotline"

    def init(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self._user)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(["initdb", "-D", str(self.data_dir), "-U", self._user, "--auth=trust",
                   "--encoding=UTF8", "--locale=C.UTF-8"])
        self.start()
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self._user,
                   "hotline"])

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.socket_dir} -c fsync=on")
        self._run(["pg_ctl", "-D", str(self.data_dir), "-l", str(self.base_dir / "server.log"),
                   "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop"])

    def running(self) -> bool:
        done = subprocess.run(self._command(["pg_ctl", "-D", str(self.data_dir), "status"]),
                              capture_output=True, check=False)
        return done.returncode == 0

    def _command(self, argv: list[str]) -> list[str]:
        program = [str(self.bin_dir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            return ["runuser", "-u", self._user, "--", *program]
        return program

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(self._command(argv), capture_output=True, text=True,
                              check=False, cwd="/")
        if done.returncode != 0:
            log_file = self.base_dir / "server.log"
            tail = log_file.read_text()[-2000:] if log_file.exists() else ""
            raise PostgresError(f"{argv[0]} failed (exit {done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-1000:]}\n{tail}")


def _server_user() -> str:
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresError("running as root needs the `postgres` system user (Debian's "
                            "postgresql package creates it)") from exc
    return "postgres"


def empty_database(url: str) -> None:
    """A database as a fresh install finds it: no tables, no migrations, no audit trigger
    (the tests' and benchmarks' server, reused between runs)."""
    from db.database import make_engine
    from db.models import Base

    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
    engine.dispose()
