"""A real anno_core server process on 127.0.0.1 (``python -m anno_core serve``).

Shared by tests/server, tests/contract (the remote backend kind) and tests/app. One
process serves a whole session (the ``server`` fixture in tests/conftest.py); each test
works in an aligned volume of its own (`fresh_volume`), so tests never see each other's
tables. Users are made with ``python -m anno_core users add`` (the token is the last line
it prints).
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

import anno_core

ROOT = Path(__file__).resolve().parents[1]

# name -> (groups, admin). "admin" is the embedded engine's default user; "olivia"... are the
# names the engine's permission tests use.
USERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "admin": ((), True),
    "olivia": (("lab",), False),
    "mia": (("lab", "other"), False),
    "sam": (("elsewhere",), False),
    "ada": ((), True),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m anno_core serve`` on 127.0.0.1 with its own data dir."""

    def __init__(
        self, data_dir: Path, port: int | None = None, settings: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.settings = dict(settings or {})  # extra ANNO_* variables for this server
        self.proc: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}
        self.log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
        return {**env, "ANNO_DATA_DIR": str(self.data_dir), **self.settings}

    def add_users(self, users: dict[str, tuple[tuple[str, ...], bool]]) -> None:
        """Create users with the CLI; keep each printed token. The first one runs alone
        (it may create the database, and switching a new file to WAL cannot wait for a
        lock); the others run in parallel."""
        items = list(users.items())
        if not (self.data_dir / "annotations.sqlite3").exists() and len(items) > 1:
            self.add_users(dict(items[:1]))
            items = items[1:]
        procs = {}
        for name, (groups, admin) in items:
            cmd = [sys.executable, "-m", "anno_core", "users", "add", name]
            cmd += [arg for g in groups for arg in ("--group", g)]
            cmd += ["--admin"] if admin else []
            procs[name] = subprocess.Popen(
                cmd,
                env=self.env,
                cwd=ROOT,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            self.tokens[name] = out.strip().splitlines()[-1]

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "anno_core",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def connect(self, user: str = "admin", **overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("aligned_volume", "default")
        return anno_core.connect(
            backend="server", server_address=self.url, token=self.tokens[user], **overrides
        )


_volumes = itertools.count(1)


def fresh_volume() -> str:
    """An aligned volume name no other test of this session uses (created on first use)."""
    return f"vol{next(_volumes)}_{os.getpid()}"
