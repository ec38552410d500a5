"""A PostgreSQL cluster whose data stays under bench/out (so a 10M-row build is made once),
started on a free loopback port for a benchmark run and stopped after it. Same settings as
the tests' throwaway cluster (tests/pgcluster.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgcluster import _bindir, _free_port  # noqa: E402

DATABASE = "scale"


class KeptCluster:
    """``start()`` -> the URL of database ``scale`` (made on first start); ``stop()``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.data = home / "data"
        self.bindir = _bindir()
        self.port = 0

    def _run(self, *args: str) -> None:
        pre = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*pre, *args], check=True, capture_output=True)

    def start(self, fresh: bool = False) -> str:
        if fresh and self.home.exists():
            shutil.rmtree(self.home)
        first = not self.data.exists()
        if first:
            self.home.mkdir(parents=True, exist_ok=True)
            os.chmod(self.home, 0o777)
            if os.geteuid() == 0:
                shutil.chown(self.home, "postgres")
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            )
        self.port = _free_port()
        opts = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.home / "log"),
            "-w",
            "start",
        )
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if first:
            import sqlalchemy as sa

            engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
            engine.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        if self.port:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
            self.port = 0
