"""Many people at once: uploaders and readers against one server on PostgreSQL, loopback only.

Starts a throwaway PostgreSQL cluster (tests/pgcluster.py) and ``python -m anno_core serve
--workers 4`` on 127.0.0.1, fills a synapse table with ``--base`` rows, then:
1. idle: one reader runs the read mix alone for ``--idle`` seconds (the floor);
2. load: ``--uploaders`` processes each upload ``--rows`` rows (our remote backend, batches
   of 10,000 with idempotency keys) into that table while ``--readers`` readers (threads in
   4 processes) run the same read mix, for ``--seconds`` seconds (and until the uploads end,
   at most ``--timeout`` seconds); every reader stops after ``--max-requests`` requests.
The read mix: a page of 50 rows after a random id (keyset), the first page, the live count,
an estimated filtered count, the table list with counts. Then it checks that every row
was stored exactly once (the count, each uploader's own rows by a value only it wrote, ids
unique) and that no request failed, and prints p50/p99 latency of each read idle and under
load. Goal: p99 under load at most 5x idle.

    .venv/bin/python bench/load.py [--workers 4] [--uploaders 8] [--readers 32] [--seconds 60]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anno_core  # noqa: E402

READS = ("page_after", "first_page", "live_count", "estimate", "details")


def synapses(n: int, marker: float, seed: int):  # type: ignore[no-untyped-def]
    """A flat synapse frame of ``n`` rows whose size is ``marker`` (who wrote them)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    centre = rng.integers([0, 0, 0], [200_000, 200_000, 8_000], size=(n, 3))
    cols = {}
    for p in ("pre_pt", "post_pt", "ctr_pt"):
        for j, a in enumerate("xyz"):
            cols[f"{p}_position_{a}"] = centre[:, j] + rng.integers(-40, 40, n)
    cols["size"] = np.full(n, marker)
    return pd.DataFrame(cols)


def client(url: str, token: str) -> anno_core.AnnotationClient:
    return anno_core.connect(
        backend="server", server_address=url, aligned_volume="load", token=token
    )


def read_once(c: anno_core.AnnotationClient, kind: str, top: int) -> None:
    if kind == "page_after":
        c.query_annotations("syn", limit=50, after_id=random.randint(0, max(1, top - 50)))
    elif kind == "first_page":
        c.query_annotations("syn", limit=50)
    elif kind == "live_count":
        c.get_live_count("syn")
    elif kind == "estimate":
        c.estimate_annotation_count("syn", filters={"size": 1.0})
    else:
        c.get_table_details()


def reader(url: str, token: str, threads: int, until: float, cap: int, top: int, out) -> None:
    """``threads`` readers in this process: (kind, seconds) per read, and failures."""
    lat: list[tuple[str, float]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        c = client(url, token)
        for _ in range(cap):
            if time.time() >= until:
                break
            kind = rng.choice(READS)
            t = time.perf_counter()
            try:
                read_once(c, kind, top)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    failures.append(f"{kind}: {exc}")
                continue
            with lock:
                lat.append((kind, time.perf_counter() - t))

    ts = [threading.Thread(target=run, args=(os.getpid() * 100 + i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(("reads", lat, failures))


def uploader(url: str, token: str, k: int, rows: int, out) -> None:
    try:
        ids = client(url, token).backend.insert_frame(
            "load", "syn", synapses(rows, 1000.0 + k, seed=k), upload_key=f"load-{k}"
        )
        out.put(("upload", k, ids, None))
    except Exception as exc:  # noqa: BLE001 - reported as a failure
        out.put(("upload", k, [], str(exc)))


def percentiles(values: list[float]) -> tuple[float, float]:
    import numpy as np

    if not values:
        return float("nan"), float("nan")
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def report(idle: list, loaded: list) -> float:
    worst = 0.0
    print(f"{'read':12} {'idle p50':>9} {'idle p99':>9} {'load p50':>9} {'load p99':>9} ratio99")
    for kind in (*READS, "all"):
        a = [s for k, s in idle if kind in (k, "all")]
        b = [s for k, s in loaded if kind in (k, "all")]
        (a50, a99), (b50, b99) = percentiles(a), percentiles(b)
        ratio = b99 / a99
        worst = max(worst, ratio) if kind == "all" else worst
        print(
            f"{kind:12} {a50 * 1e3:8.1f}ms {a99 * 1e3:8.1f}ms {b50 * 1e3:8.1f}ms "
            f"{b99 * 1e3:8.1f}ms {ratio:6.1f}x  ({len(a)} idle, {len(b)} under load)"
        )
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--uploaders", type=int, default=8)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--readers", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--idle", type=float, default=15)
    ap.add_argument("--base", type=int, default=200_000)
    ap.add_argument("--max-requests", type=int, default=20_000)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()

    from tests.pgcluster import Cluster
    from tests.serverproc import free_port

    cluster = Cluster()
    db = cluster.create_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    env["ANNO_DATABASE_URL"] = db
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = None
    try:
        made = subprocess.run(
            [sys.executable, "-m", "anno_core", "users", "add", "loader", "--admin"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        token = made.stdout.strip().splitlines()[-1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "anno_core",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        c = client(url, token)
        for _ in range(600):
            try:
                c.get_tables()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        c.create_table("syn", "synapse", "load test [bench]", [4, 4, 40])
        c.backend.insert_frame("load", "syn", synapses(args.base, 1.0, seed=999))
        print(f"server: {args.workers} workers on PostgreSQL; table of {args.base:,} rows")

        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        reader(url, token, 1, time.time() + args.idle, args.max_requests, args.base, q)
        _, idle, idle_failures = q.get()

        start = time.time()
        until = start + args.seconds
        procs = [
            ctx.Process(target=uploader, args=(url, token, k, args.rows, q))
            for k in range(args.uploaders)
        ]
        per = args.readers // 4
        procs += [
            ctx.Process(
                target=reader, args=(url, token, per, until, args.max_requests, args.base, q)
            )
            for _ in range(4)
        ]
        for p in procs:
            p.start()
        loaded, failures, uploads = [], list(idle_failures), {}
        for _ in procs:
            got = q.get(timeout=args.timeout)
            if got[0] == "reads":
                loaded += got[1]
                failures += got[2]
            else:
                uploads[got[1]] = got[2]
                if got[3]:
                    failures.append(f"upload {got[1]}: {got[3]}")
        for p in procs:
            p.join(60)
        took = time.time() - start

        ids = [i for k in sorted(uploads) for i in uploads[k]]
        total = c.get_annotation_count("syn")
        per_uploader = [
            c.count_annotations("syn", filters={"size": 1000.0 + k}) for k in range(args.uploaders)
        ]
        print(f"load phase: {took:.0f} s; {len(loaded):,} reads, {len(ids):,} rows uploaded")
        worst = report(idle, loaded)
        expect = args.base + args.uploaders * args.rows
        checks = {
            "rows stored": total == expect,
            "each uploader's rows stored once": per_uploader == [args.rows] * args.uploaders,
            "ids unique": len(set(ids)) == len(ids) == args.uploaders * args.rows,
            "no request failed": not failures,
        }
        for name, ok in checks.items():
            print(f"{name}: {'yes' if ok else 'NO'}")
        print(f"stored {total:,} rows (expected {expect:,}); per uploader {per_uploader}")
        for f in failures[:10]:
            print("  failure:", f)
        print(
            f"p99 of all reads under load / idle: {worst:.1f}x (goal <= 5x) "
            f"{'OK' if worst <= 5 else 'MISSED'}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        cluster.drop_database(db)
        cluster.stop()


if __name__ == "__main__":
    main()
