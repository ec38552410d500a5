"""The project is installed into the venv (``make run`` / ``make test``: ``pip install --no-deps
-e .``), so ``anno-tables`` and ``python -m anno_core`` work from any folder, not only from
the project root."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.serverproc import free_port

SCRIPT = Path(sys.executable).parent / "anno-tables"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env.pop("PYTHONPATH", None)  # found because it is installed, not because of a path
    return {**env, "ANNO_DATA_DIR": str(data_dir)}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_console_script_manages_users_from_any_folder(tmp_path):
    assert SCRIPT.exists(), (
        f"{SCRIPT} is missing: install the project into the venv with "
        "'pip install --no-deps -e .' (make run and make test do)."
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _env(tmp_path / "data")
    added = _run([str(SCRIPT), "users", "add", "zoe", "--group", "lab"], elsewhere, env)
    assert added.returncode == 0, added.stderr
    assert "Created user 'zoe'" in added.stdout and len(added.stdout.splitlines()[-1]) > 20
    listed = _run([str(SCRIPT), "users", "list"], elsewhere, env)
    assert listed.returncode == 0 and "\tzoe\t-\tlab" in listed.stdout, listed.stderr
    again = _run([sys.executable, "-m", "anno_core", "users", "list"], elsewhere, env)
    assert again.returncode == 0 and again.stdout == listed.stdout, again.stderr
    refused = _run([str(SCRIPT), "users", "add", "zoe"], elsewhere, env)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert (tmp_path / "data" / "annotations.sqlite3").exists()
    assert not (elsewhere / "data").exists()


def test_the_console_script_serves_from_any_folder(tmp_path):
    assert SCRIPT.exists(), f"{SCRIPT} is missing: 'pip install --no-deps -e .'"
    port = free_port()
    proc = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(tmp_path / "data"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "anno-tables serve exited"
            try:
                r = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "anno-tables serve did not answer"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
