"""A PostgreSQL server of its own in a temporary folder, for the gateway's read model in tests and benchmarks.

The server binaries come from Debian's packages (`make setup` installs them). It listens on a free loopback
port, with a random superuser password (SCRAM), and its folder goes when it stops. As root, initdb and
postgres run as the `postgres` system user, which they require.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from registry_node.devnet.ganache import DevChainError, free_port

PG_BIN = Path(os.environ.get("IPREG_PG_BIN", "/usr/lib/postgresql/15/bin"))
READY_TIMEOUT_S = 60.0
USER = "gateway"


class LocalPostgres:
    """`durable=False` (tests) turns fsync and synchronous commit off; a benchmark keeps PostgreSQL's
    defaults, as a consortium's server would run."""

    def __init__(self, durable: bool = True) -> None:
        self.durable = durable
        self.host = "127.0.0.1"
        self.port = 0
        self.password = secrets.token_urlsafe(24)
        self.base: Path | None = None

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{USER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"gw_{secrets.token_hex(6)}"
        with self._connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def version(self) -> str:
        with self._connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def start(self) -> None:
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        self.base = Path(tempfile.mkdtemp(prefix="ipreg-postgres-"))
        data, socket_dir, pwfile = self.base / "data", self.base / "socket", self.base / "pwfile"
        socket_dir.mkdir()
        pwfile.write_text(self.password, "utf-8")
        if os.geteuid() == 0:
            for path in (self.base, socket_dir, pwfile):
                shutil.chown(path, "postgres", "postgres")
        _run([*_as_postgres_user(), str(initdb), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
              f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync", "--locale=C"])  # fmt: skip
        self.port = free_port()
        options = f"-k {socket_dir} -h {self.host} -p {self.port}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off"
        log = self.base / "postgres.log"
        _run([*_as_postgres_user(), str(pg_ctl), "-D", str(data), "-l", str(log), "-o", options, "-w",
              "-t", str(int(READY_TIMEOUT_S)), "start"])  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                self._connect().close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    said = log.read_text("utf-8", "replace")
                    raise DevChainError(f"PostgreSQL did not answer: {said}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.base is None:
            return
        base, self.base = self.base, None
        pg_ctl = str(_binary("pg_ctl"))
        stop = [pg_ctl, "-D", str(base / "data"), "-m", "fast", "-w", "stop"]
        subprocess.run([*_as_postgres_user(), *stop], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    def _connect(self, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=USER, password=self.password, dbname="postgres",
            autocommit=autocommit,
        )  # fmt: skip


def _binary(name: str) -> Path:
    """A PostgreSQL server program: Debian's versioned folder first, then PATH."""
    if (PG_BIN / name).exists():
        return PG_BIN / name
    found = shutil.which(name)
    if found is None:
        raise DevChainError(f"PostgreSQL's {name} is missing ({PG_BIN / name}): run `make setup`")
    return Path(found)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        program = Path(next(part for part in command if "/" in part)).name
        raise DevChainError(f"{program} failed: {done.stdout}{done.stderr}")


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the `postgres` system user."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
