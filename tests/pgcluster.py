"""A throwaway PostgreSQL cluster for the tests, on 127.0.0.1, in a temporary directory.

If TEST_DATABASE_URL names a running server (a maintenance database such as
postgresql://user@127.0.0.1:5432/postgres), that server is used instead. Otherwise Debian's
`postgresql` package is installed if missing and a cluster is started and stopped here.
A missing server is a failure, never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "postgresql"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's initdb is not installed and could not be installed.")
    return Path(found[-1]).parent


class Cluster:
    """A PostgreSQL server and a way to make a fresh database per test."""

    def __init__(self) -> None:
        self.tmp: str | None = None
        self.admin_url = os.environ.get("TEST_DATABASE_URL")
        if not self.admin_url:
            self._start()
        self.admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _start(self) -> None:
        bindir = _bindir()
        self.tmp = tempfile.mkdtemp(prefix="anno-pg-")
        os.chmod(self.tmp, 0o777)
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres")
        data = os.path.join(self.tmp, "data")
        self.port = _free_port()
        subprocess.run(
            [
                *self._as_postgres(),
                str(bindir / "initdb"),
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        opts = (
            f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        subprocess.run(
            [
                *self._as_postgres(),
                str(bindir / "pg_ctl"),
                "-D",
                data,
                "-o",
                opts,
                "-l",
                os.path.join(self.tmp, "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.bindir = bindir
        self.data = data
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return str(sa.engine.make_url(self.admin_url).set(database=name))

    def drop_database(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self.admin.dispose()
        if self.tmp:
            subprocess.run(
                [
                    *self._as_postgres(),
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    self.data,
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
            )
            shutil.rmtree(self.tmp, ignore_errors=True)
