"""Browser tests: `streamlit run app.py` on a free loopback port, driven by real Chromium.

Fixtures later pages reuse:
  app_server  one Streamlit server per test module, on its own temporary data dir
              (``app_server.url``, ``app_server.data_dir``, ``app_server.client()``);
              a module whose tests each want a fresh one overrides it with `serving`
  browser     Debian's Chromium through Playwright (missing browser = failure, never skip)
  page        a fresh tab at the app; every request it makes is checked to stay on
              127.0.0.1 when the test ends
Helpers (tests/e2e/helpers.py): wait_idle, goto_page, pick_option, fill, shot.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

import anno_core

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    url: str
    data_dir: Path
    process: subprocess.Popen

    def client(self, **overrides) -> anno_core.AnnotationClient:
        """A client on the same data dir as the app (to check what the app stored)."""
        return anno_core.connect(data_dir=self.data_dir, **overrides)


def start_app(
    data_dir: Path,
    log_path: Path,
    extra_env: dict | None = None,
    *,
    address: str = "127.0.0.1",
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> AppServer:
    """Start `streamlit run app.py` on a free port (listening on ``address``) and wait
    until it answers on 127.0.0.1."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env.update({"ANNO_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            address,
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return AppServer(url, data_dir, proc)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"streamlit did not answer within 60 s:\n{log_path.read_text()}")


def stop_app(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def serving(tmp_path_factory) -> Iterator[AppServer]:
    """A Streamlit server on a new data dir, stopped when the generator is closed."""
    base = tmp_path_factory.mktemp("e2e")
    server = start_app(base / "data", base / "streamlit.log")
    yield server
    stop_app(server)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> Iterator[AppServer]:
    yield from serving(tmp_path_factory)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run 'make system-deps' (installs Debian's chromium).")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    tab = context.new_page()
    outside: list[str] = []

    def _check(request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    tab.on("request", _check)
    tab.goto(app_server.url)
    from .helpers import wait_idle

    wait_idle(tab)
    yield tab
    context.close()
    assert not outside, f"requests left the machine: {outside}"
