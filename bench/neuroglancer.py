"""Neuroglancer: the first spatial chunk of a 10,000,000-row table against a 10,000-row one.

Builds once (kept under ``bench/out/neuroglancer_10m/``, git-ignored): an embedded database
with two synapse tables of the same shape (points spread over 1.2 x 1.0 x 0.8 mm in
4 x 4 x 40 nm voxels), ``big`` (10 M rows) and ``small`` (10,000), and their spatial
indexes (built by the first ``info``: the build time is printed once).

Each run starts ``python -m anno_core serve`` on that data dir (a fresh process: no view in
its cache), asks it for a grant per table, then does what a viewer does first, timing each
step: ``info``, then every cell of level 0 (the first spatial chunk). Then, warm, one cell of
the deepest level near the middle. The figure is the best of the runs, big / small (goal:
<= 2, and the big table's first chunk under 0.5 s).
Usage: ``.venv/bin/python bench/neuroglancer.py [--rows 10000000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anno_core  # noqa: E402
from anno_core.wire import endpoints as ep  # noqa: E402

OUT = ROOT / "bench" / "out" / "neuroglancer_10m"
VOLUME = "bench"
EXTENT = np.array([300_000, 250_000, 20_000])  # voxels of 4 x 4 x 40 nm


def synapses(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pre = rng.random((n, 3)) * EXTENT
    cols: dict[str, np.ndarray] = {}
    for name, pts in (("pre", pre), ("post", pre + [40, 30, 1]), ("ctr", pre + [20, 15, 0.5])):
        for j, a in enumerate("xyz"):
            cols[f"{name}_pt_position_{a}"] = np.round(pts[:, j], 1)
    cols["size"] = rng.random(n) * 500
    return pd.DataFrame(cols)


def build(rows: int) -> str:
    """The data dir with both tables indexed (made once); the bench user's token."""
    marker = OUT / f"built-{rows}"
    token_file = OUT / "token"
    if marker.exists():
        return token_file.read_text().strip()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ANNO_DATA_DIR": str(OUT / "data")}
    made = subprocess.run(
        [sys.executable, "-m", "anno_core", "users", "add", "nglbench", "--admin"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    token_file.write_text(made.stdout.strip().splitlines()[-1])
    client = anno_core.connect(data_dir=OUT / "data", aligned_volume=VOLUME, user="nglbench")
    for name, n in (("small", 10_000), ("big", rows)):
        client.create_table(name, "synapse", f"{n:,} synapses [bench]", [4, 4, 40])
        t0 = time.perf_counter()
        step = 1_000_000
        for start in range(0, n, step):
            part = synapses(min(step, n - start), seed=start + n)
            client.backend.insert_frame(VOLUME, name, part)
            print(f"  {name}: {start + len(part):,} rows stored", flush=True)
        t1 = time.perf_counter()
        client.backend.neuroglancer_info(VOLUME, name)  # builds the spatial index
        t2 = time.perf_counter()
        print(
            f"{name}: stored in {t1 - t0:.1f} s, indexed in {t2 - t1:.1f} s "
            f"({n / (t2 - t1):,.0f} rows/s)",
            flush=True,
        )
    marker.touch()
    return token_file.read_text().strip()


def reindex() -> None:
    """Drop both spatial indexes and time building them again (what the first opening of a
    table stored before the index existed, or of a fresh 10 M-row upload, costs)."""

    from anno_core.engine import db

    client = anno_core.connect(data_dir=OUT / "data", aligned_volume=VOLUME, user="nglbench")
    b = client.backend
    for name in ("small", "big"):
        meta_id = b.meta(VOLUME, name)["id"]
        with b.engine.begin() as conn:
            db.spatial_table(meta_id).drop(conn, checkfirst=True)
            conn.execute(
                db.spatial_extents.delete().where(db.spatial_extents.c.table_meta_id == meta_id)
            )
            conn.execute(
                db.spatial_pending.delete().where(db.spatial_pending.c.table_meta_id == meta_id)
            )
        n = b.get_annotation_count(VOLUME, name)
        t0 = time.perf_counter()
        b.neuroglancer_info(VOLUME, name)
        dt = time.perf_counter() - t0
        print(f"{name}: spatial index of {n:,} rows built in {dt:.1f} s ({n / dt:,.0f} rows/s)")


def serve() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "ANNO_DATA_DIR": str(OUT / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "anno_core", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def timed(session: requests.Session, url: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    r = session.get(url, timeout=600)
    dt = time.perf_counter() - t0
    r.raise_for_status()
    return dt, r.content


def one_run(token: str) -> dict[str, dict[str, float]]:
    proc, url = serve()
    out: dict[str, dict[str, float]] = {}
    try:
        s = requests.Session()
        auth = {"Authorization": f"Bearer {token}"}
        for name in ("small", "big"):
            grant = s.post(
                ep.url(url, ep.NG_GRANT, aligned_volume=VOLUME, table_name=name),
                json={},
                headers=auth,
                timeout=60,
            ).json()["grant"]
            base = ep.url(url, ep.NG_SOURCE, grant=grant, geometry="lines")
            t_info, raw = timed(s, base + "/info")
            info = __import__("json").loads(raw)
            level0 = info["spatial"][0]
            t_first = 0.0
            rows0 = 0
            for cell in itertools.product(*(range(k) for k in level0["grid_shape"])):
                dt, data = timed(s, f"{base}/{level0['key']}/{'_'.join(map(str, cell))}")
                t_first += dt
                rows0 += int(np.frombuffer(data[:8], "<u8")[0])
            deep = info["spatial"][-1]
            middle = (EXTENT / 2 - np.array(info["lower_bound"])) // deep["chunk_size"]
            mid = "_".join(str(int(k)) for k in middle)  # the cell at the data's middle
            timed(s, f"{base}/{deep['key']}/{mid}")  # warm the view's connection
            t_deep, data = timed(s, f"{base}/{deep['key']}/{mid}")
            out[name] = {
                "info": t_info,
                "first_chunk": t_first,
                "open": t_info + t_first,
                "rows_level0": rows0,
                "levels": len(info["spatial"]),
                "deep_cell": t_deep,
                "deep_rows": int(np.frombuffer(data[:8], "<u8")[0]),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--reindex", action="store_true", help="time building the indexes again")
    args = ap.parse_args()
    token = build(args.rows)
    if args.reindex:
        reindex()
    runs = [one_run(token) for _ in range(args.runs)]
    best = {
        name: {k: min(r[name][k] for r in runs) for k in runs[0][name]} for name in ("small", "big")
    }
    for name in ("small", "big"):
        b = best[name]
        print(
            f"{name:>5}: info {b['info'] * 1000:7.1f} ms, first chunk (level 0, "
            f"{b['rows_level0']:,.0f} rows) {b['first_chunk'] * 1000:7.1f} ms, "
            f"{b['levels']:.0f} levels; deepest-level cell ({b['deep_rows']:,.0f} rows) "
            f"{b['deep_cell'] * 1000:6.1f} ms"
        )
    ratio = best["big"]["open"] / best["small"]["open"]
    chunk = best["big"]["first_chunk"]
    print(
        f"info + first chunk: big {best['big']['open'] * 1000:.1f} ms / small "
        f"{best['small']['open'] * 1000:.1f} ms = ratio {ratio:.2f} (goal <= 2); "
        f"big first chunk {chunk * 1000:.1f} ms (goal < 500 ms)"
    )


if __name__ == "__main__":
    main()
