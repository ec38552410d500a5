"""Remote upload: our remote backend vs caveclient's upload_staged_annotations, same server.

Starts our server on 127.0.0.1 (a fresh data dir), makes N synapse rows once, and uploads
them twice into two new tables of the same aligned volume:

- ours:      ``client.backend.insert_frame`` of the flat frame (the remote backend: batches
             of 10,000, columnar bodies with idempotency keys, the next batch encoded while
             the current one is stored);
- caveclient: ``CAVEclient(...).annotation.upload_staged_annotations`` of a StagedAnnotations
             filled with the same rows (staging is timed apart: it is not part of the upload).

Prints rows per second of both and their ratio; the target is ours >= 5x caveclient's.
Usage: ``.venv/bin/python bench/remote_upload.py [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anno_core  # noqa: E402

TARGET = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "ANNO_DATA_DIR": str(data)}
    out = subprocess.run(
        [sys.executable, "-m", "anno_core", "users", "add", "bench", "--admin"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "anno_core", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return proc, url, token
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def synapse_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """n synapse rows in [4, 4, 40] voxels: the flat frame (points as _x/_y/_z columns)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    centre = rng.integers(0, [400_000, 300_000, 20_000], size=(n, 3)).astype(float)
    for field, shift in (("pre_pt", -5), ("post_pt", 5), ("ctr_pt", 0)):
        for j, axis in enumerate("xyz"):
            cols[f"{field}_position_{axis}"] = centre[:, j] + (shift if j < 2 else 0)
    cols["size"] = rng.gamma(2.0, 150.0, n).round(1)
    return pd.DataFrame(cols)


def as_position_lists(flat: pd.DataFrame) -> pd.DataFrame:
    """The same rows with one [x, y, z] column per point, the form caveclient stages."""
    out = pd.DataFrame(index=flat.index)
    for field in ("pre_pt", "post_pt", "ctr_pt"):
        xyz = flat[[f"{field}_position_{a}" for a in "xyz"]].to_numpy()
        out[f"{field}_position"] = list(xyz)
    out["size"] = flat["size"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.rows
    from caveclient import CAVEclient

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"  # caveclient writes a server cache in ~/.cloudvolume
        home.mkdir()
        os.environ["HOME"] = str(home)
        proc, url, token = start_server(Path(tmp) / "data")
        try:
            frame = synapse_frame(n)
            client = anno_core.connect(
                backend="server", server_address=url, aligned_volume="bench", token=token
            )
            client.create_table("ours", "synapse", "bench: remote backend", [4, 4, 40])
            client.create_table("cave", "synapse", "bench: caveclient", [4, 4, 40])

            t0 = time.perf_counter()
            ids = client.backend.insert_frame("bench", "ours", frame)
            ours_s = time.perf_counter() - t0
            assert len(set(ids)) == n == client.get_annotation_count("ours")

            cave = CAVEclient("bench", server_address=url, auth_token=token).annotation
            staged = cave.stage_annotations("cave")
            t0 = time.perf_counter()
            staged.add_dataframe(as_position_lists(frame))
            stage_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            cave_ids = cave.upload_staged_annotations(staged, progress=False)
            cave_s = time.perf_counter() - t0
            assert len(cave_ids) == n == client.get_annotation_count("cave")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ours_rate, cave_rate = n / ours_s, n / cave_s
    ratio = ours_rate / cave_rate
    print(f"rows: {n:,} synapse rows, one server on 127.0.0.1, same run")
    print(f"ours (remote backend insert_frame): {ours_s:8.2f} s  {ours_rate:10,.0f} rows/s")
    print(
        f"caveclient upload_staged_annotations: {cave_s:8.2f} s  {cave_rate:10,.0f} rows/s"
        f"  (staging beforehand: {stage_s:.1f} s, not counted)"
    )
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"ratio: {ratio:.2f}x ({verdict} the target of {TARGET:.0f}x)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
