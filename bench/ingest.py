"""Ingest benchmark: a 1,000,000-row synapse CSV from file to committed rows.

Ours: ``client.ingest_csv`` into the embedded engine (read, map, validate every row, store,
commit). Floor, measured in the same run on the same file: ``pandas.read_csv`` plus one
``executemany`` into a plain SQLite table with the same 10 columns, in one transaction.
Each measurement runs in its own process (so peak RSS is its own); runs alternate, and the
best of ``--repeat`` is kept for each side. Target: ours / floor <= 1.5, peak RSS < 2 GB.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--repeat 3]
    .venv/bin/python bench/ingest.py --database-url postgresql://user@127.0.0.1/db
    .venv/bin/python bench/ingest.py --database-url auto   # a throwaway local cluster

With ``--database-url`` ours runs on that PostgreSQL database and the floor is a plain
``COPY ... FROM STDIN (FORMAT csv)`` of the same file into a plain table with the same
columns, in the same run. Target there: ours / floor <= 2.5 (issue 12; it was 2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
POINTS = ("pre_pt", "post_pt", "ctr_pt")


def make_csv(path: Path, rows: int) -> None:
    """A seeded synapse CSV: three points as x/y/z columns (4x4x40 nm voxels) and a size."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    cols = {}
    centre = rng.integers([0, 0, 0], [200_000, 200_000, 8_000], size=(rows, 3))
    for p in POINTS:
        jitter = rng.integers(-40, 40, size=(rows, 3))
        for j, a in enumerate("xyz"):
            cols[f"{p}_position_{a}"] = centre[:, j] + jitter[:, j]
    cols["size"] = np.round(rng.gamma(2.0, 200.0, rows), 1)
    pd.DataFrame(cols).to_csv(path, index=False)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def run_floor(csv: Path, work: Path) -> dict:
    import pandas as pd

    db = work / "floor.sqlite3"
    start = time.perf_counter()
    df = pd.read_csv(csv)
    con = sqlite3.connect(db)
    cols = list(df.columns)
    con.execute(f"CREATE TABLE t ({', '.join(f'{c} REAL' for c in cols)})")
    marks = ", ".join("?" * len(cols))
    with con:
        con.executemany(
            f"INSERT INTO t VALUES ({marks})",  # noqa: S608 - our own names
            df.itertuples(index=False, name=None),
        )
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": len(df), "peak_rss_mb": peak_rss_mb()}


def run_pg_floor(csv: Path, work: Path, url: str) -> dict:
    import uuid

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    table = "floor_" + uuid.uuid4().hex[:10]
    header = csv.open().readline().strip().split(",")
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cols = ", ".join(f"{c} DOUBLE PRECISION" for c in header)
        cur.execute(f"CREATE TABLE {table} ({cols})")
        with csv.open() as fh:
            cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        raw.commit()
        seconds = time.perf_counter() - start
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own name
        rows = cur.fetchone()[0]
        cur.execute(f"DROP TABLE {table}")
        raw.commit()
    finally:
        raw.close()
    return {"seconds": seconds, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def run_ours(csv: Path, work: Path, url: str | None = None) -> dict:
    import uuid

    sys.path.insert(0, str(ROOT))
    import anno_core

    extra = {"database_url": url} if url else {}
    volume = "bench_" + uuid.uuid4().hex[:8]  # a fresh namespace per run on a shared database
    client = anno_core.connect(data_dir=work / "data", aligned_volume=volume, **extra)
    client.create_table("synapses", "synapse", "benchmark synapses", [4, 4, 40])
    start = time.perf_counter()
    ids = client.ingest_csv("synapses", csv)
    seconds = time.perf_counter() - start
    assert client.get_annotation_count("synapses") == len(ids)
    return {"seconds": seconds, "rows": len(ids), "peak_rss_mb": peak_rss_mb()}


def one(kind: str, csv: Path, url: str | None = None) -> dict:
    """One measurement in a fresh process, in a fresh folder."""
    extra = ["--database-url", url] if url else []
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--one", kind, "--csv", str(csv), "--work", tmp, *extra],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", choices=["floor", "ours"])
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--database-url", help="a PostgreSQL URL, or 'auto' for a local cluster")
    args = ap.parse_args()
    url = args.database_url
    if args.one:
        if args.one == "floor":
            result = (
                run_pg_floor(args.csv, args.work, url) if url else run_floor(args.csv, args.work)
            )
        else:
            result = run_ours(args.csv, args.work, url)
        print(json.dumps(result))
        return
    cluster = None
    if url == "auto":
        sys.path.insert(0, str(ROOT))
        from tests.pgcluster import Cluster

        cluster = Cluster()
        url = cluster.create_database()
    try:
        compare(args, url)
    finally:
        if cluster is not None:
            cluster.drop_database(url)
            cluster.stop()


def compare(args: argparse.Namespace, url: str | None) -> None:
    """Alternate floor and ours runs; print the best of each and the ratio."""
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / f"synapses_{args.rows}.csv"
    if not csv.exists():
        make_csv(csv, args.rows)
    print(
        f"file: {csv.name}, {csv.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows; "
        f"{os.cpu_count()} cores"
    )
    floors, ours = [], []
    for i in range(args.repeat):
        floors.append(one("floor", csv, url))
        ours.append(one("ours", csv, url))
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(
            f"  run {i + 1}: floor {floors[-1]['seconds']:.2f} s, ours {ours[-1]['seconds']:.2f} s"
            f" (load average {load})"
        )
    best_floor = min(r["seconds"] for r in floors)
    best_ours = min(r["seconds"] for r in ours)
    rss = max(r["peak_rss_mb"] for r in ours)
    ratio = best_ours / best_floor
    floor_name = "plain COPY" if url else "pandas.read_csv + executemany"
    target = 2.5 if url else 1.5
    print(f"database: {'PostgreSQL' if url else 'SQLite'}")
    print(f"floor ({floor_name}): {best_floor:.2f} s")
    print(
        f"ours  (ingest_csv, validated, committed): {best_ours:.2f} s "
        f"= {args.rows / best_ours:,.0f} rows/s"
    )
    print(
        f"ratio ours/floor: {ratio:.2f} (target <= {target}) "
        f"{'OK' if ratio <= target else 'MISSED'}"
    )
    print(
        f"peak RSS ours: {rss:.0f} MB (target < 2048 MB); floor: "
        f"{max(r['peak_rss_mb'] for r in floors):.0f} MB"
    )
    shutil.rmtree(OUT / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
