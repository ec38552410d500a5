"""``serve --workers N``: several processes serve one PostgreSQL database at once (writers
of a table take turns through the database); SQLite refuses, saying why."""

from __future__ import annotations

import concurrent.futures as cf
import os
import subprocess
import sys
import time

import requests

import anno_core
from tests.conftest import synapse
from tests.serverproc import ROOT, free_port


def _env(data_dir, database_url) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env["ANNO_DATA_DIR"] = str(data_dir)
    if database_url:
        env["ANNO_DATABASE_URL"] = database_url
    return env


def test_workers_serve_one_postgresql_database_at_once(data_dir, database_url, db_kind):
    env = _env(data_dir, database_url)
    port = free_port()
    serve = [sys.executable, "-m", "anno_core", "serve", "--port", str(port), "--workers", "3"]
    if db_kind == "sqlite":
        run = subprocess.run(serve, env=env, cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 2
        assert "SQLite serves one process" in run.stderr
        assert "put the engine on PostgreSQL (ANNO_DATABASE_URL)" in run.stderr
        return
    made = subprocess.run(
        [sys.executable, "-m", "anno_core", "users", "add", "wendy", "--admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip().splitlines()[-1]
    proc = subprocess.Popen(
        serve, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(url + "/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)

        def health(_: int) -> int:  # a new connection each time: any worker may take it
            got = requests.get(url + "/health", headers={"Connection": "close"}, timeout=30)
            return int(got.json()["worker"])

        workers: set[int] = set()
        with cf.ThreadPoolExecutor(12) as pool:
            while len(workers) < 3 and time.monotonic() < deadline + 60:
                workers |= set(pool.map(health, range(60)))
        assert len(workers) == 3 and proc.pid not in workers

        client = anno_core.connect(
            backend="server", server_address=url, aligned_volume="w", token=token
        )
        client.create_table("syn", "synapse", "workers [pytest]", [4, 4, 40])

        def post(k: int) -> list[int]:
            c = anno_core.connect(
                backend="server", server_address=url, aligned_volume="w", token=token
            )
            return c.post_annotation("syn", [synapse(100 * k + i) for i in range(50)])

        with cf.ThreadPoolExecutor(6) as pool:
            ids = [i for got in pool.map(post, range(12)) for i in got]
        assert len(ids) == len(set(ids)) == 600
        assert client.get_annotation_count("syn") == 600
        assert client.get_table_details()[0]["live_count"] == 600
    finally:
        proc.terminate()
        proc.wait(30)
