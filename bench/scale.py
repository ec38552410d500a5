"""Lab scale: a 10,000,000-row table and 1,000 tables, each figure a ratio to a floor.

Builds once, cached under ``bench/out/scale/`` (git-ignored; ``--rebuild`` starts over):
- aligned volume ``scale_big``: table ``big``, 10,000,000 ``bound_tag`` rows (a point and a
  tag; 10 tags, ``bc`` one row in ten);
- aligned volume ``scale_small``: table ``small``, the first 10,000 of those rows;
- aligned volume ``scale_many``: 1,000 empty tables.
On SQLite (the default engine) and, with ``--postgresql``, on a PostgreSQL cluster kept
under ``bench/out/scale/pg`` (started for the run, stopped after).

Figures, each the best of ``--repeat`` and printed against a floor from the same run:
- the 3D sample: ``get_point_frame`` of the 10M-row table against the 10,000-row one, the
  same number of points from each (cost does not grow with the table; goal <= 2x), and the
  default 100,000 points, with the peak RSS of a process that reads them;
- a deep page: 50 rows after the id at row 5,000,000 (keyset) against the first page
  (goal <= 2x), and the same page by offset for contrast;
- a filtered count (``tag = 'bc'``): the estimate and the exact count against the first
  page; the estimate's error;
- ``get_table_details`` of 1,000 tables against ``get_tables`` (names only);
- in real Chromium (``bench/scale_browser.py``; ``--no-browser`` skips): the Tables page with
  1,000 tables against the Create table page (goal <= 2x; first paint < 1.5 s, return
  < 0.5 s), and opening the 10M-row table against the 10,000-row one (3D view < 3 s, the
  server's peak RSS < 500 MB).

    .venv/bin/python bench/scale.py [--rows 10000000] [--repeat 5] [--postgresql]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anno_core  # noqa: E402

OUT = ROOT / "bench" / "out" / "scale"
LAYOUT = 2  # bump when the built data must change
TAGS = ["bc", "pyc", "mc", "sst", "vip", "ndnf", "l5p", "l6p", "l4p", "l23p"]
BATCH = 1_000_000


def frame(start: int, n: int):  # type: ignore[no-untyped-def]
    """Rows start..start+n of the synthetic table: a point (4x4x40 nm voxels) and a tag."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(start)
    pos = rng.integers([0, 0, 0], [250_000, 150_000, 7_000], size=(n, 3))
    return pd.DataFrame(
        {
            "pt_position_x": pos[:, 0],
            "pt_position_y": pos[:, 1],
            "pt_position_z": pos[:, 2],
            "tag": np.asarray(TAGS, dtype=object)[(np.arange(start, start + n) * 7) % 10],
        }
    )


def connect(kind: str, volume: str, url: str | None) -> anno_core.AnnotationClient:
    extra = {"database_url": url} if url else {}
    return anno_core.connect(data_dir=OUT / "data", aligned_volume=volume, **extra)


def build(kind: str, url: str | None, rows: int, tables: int) -> None:
    """Make the three volumes unless the marker says they are there already."""
    marker = OUT / f"built_{kind}.json"
    want = {"layout": LAYOUT, "rows": rows, "tables": tables}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return
    if kind == "sqlite" and (OUT / "data").exists():
        shutil.rmtree(OUT / "data")
    start = time.perf_counter()
    big = connect(kind, "scale_big", url)
    if "big" in big.get_tables():
        raise SystemExit(f"{kind}: a partial build is there; run with --rebuild")
    big.create_table("big", "bound_tag", "10 M synthetic tags [bench]", [4, 4, 40])
    for first in range(0, rows, BATCH):
        n = min(BATCH, rows - first)
        big.backend.insert_frame("scale_big", "big", frame(first, n))
        print(f"  {kind}: {first + n:,} rows ({time.perf_counter() - start:.0f} s)", flush=True)
    small = connect(kind, "scale_small", url)
    small.create_table("small", "bound_tag", "10,000 synthetic tags [bench]", [4, 4, 40])
    small.backend.insert_frame("scale_small", "small", frame(0, 10_000))
    many = connect(kind, "scale_many", url)
    for i in range(tables):
        many.create_table(f"t{i:04d}", "bound_tag", f"table {i} of {tables} [bench]", [4, 4, 40])
    if url:  # what autovacuum does after a bulk load, here at once: the visibility map
        import sqlalchemy as sa  # lets the sample be read from its index alone

        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
    print(f"  {kind}: built in {time.perf_counter() - start:.0f} s", flush=True)
    marker.write_text(json.dumps(want))


def loadavg() -> str:
    """The machine's 1, 5 and 15 minute load averages (2 shared cores)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """The shortest of ``repeat`` runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def line(what: str, ours: float, floor: float, goal: float | None = None) -> str:
    ratio = ours / floor
    verdict = "" if goal is None else (" OK" if ratio <= goal else " MISSED")
    target = "" if goal is None else f" (goal <= {goal:g}x)"
    return (
        f"{what}: {ours * 1000:.1f} ms vs floor {floor * 1000:.1f} ms = {ratio:.2f}x{target}"
        f"{verdict}"
    )


def sample_rss(kind: str, url: str | None) -> dict:
    """In a fresh process: read the 10M-row table's default sample; time and peak RSS."""
    extra = ["--database-url", url] if url else []
    out = subprocess.run(
        [sys.executable, __file__, "--one", "sample", "--kind", kind, *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def api_figures(kind: str, url: str | None, repeat: int) -> list[str]:
    big = connect(kind, "scale_big", url)
    small = connect(kind, "scale_small", url)
    many = connect(kind, "scale_many", url)
    out = [f"-- {kind} -- (load average {loadavg()})"]
    for n in (10_000, 100_000):
        ours = best(lambda n=n: big.get_point_frame("big", limit=n), repeat)
        floor = best(lambda n=n: small.get_point_frame("small", limit=n), repeat)
        out.append(
            line(
                f"3D sample, {n:,} points of 10M rows vs of 10,000 rows",
                ours,
                floor,
                2.0 if n == 10_000 else None,
            )
        )
    got = sample_rss(kind, url)
    out.append(
        f"3D sample in a fresh process: {got['rows']:,} points of {got['live']:,} rows in "
        f"{got['seconds'] * 1000:.0f} ms, peak RSS {got['peak_rss_mb']:.0f} MB "
        f"(of which {got['base_rss_mb']:.0f} MB before the read)"
    )
    deep_at = int(big.query_annotations("big", limit=1, offset=5_000_000)["id"].iloc[0]) - 1
    first = best(lambda: big.query_annotations("big", limit=50), repeat)
    keyset = best(lambda: big.query_annotations("big", limit=50, after_id=deep_at), repeat)
    offset = best(lambda: big.query_annotations("big", limit=50, offset=5_000_000), 2)
    out.append(
        line("page of 50 rows after row 5,000,000 (after_id) vs first page", keyset, first, 2.0)
    )
    out.append(line("the same page by offset=5,000,000 vs first page", offset, first))
    flt = {"tag": "bc"}
    est = big.estimate_annotation_count("big", filters=flt)
    t_est = best(lambda: big.estimate_annotation_count("big", filters=flt), repeat)
    exact = big.count_annotations("big", filters=flt)
    t_exact = best(lambda: big.count_annotations("big", filters=flt), 2)
    out.append(
        line(
            f"count of tag contains 'bc': estimate {est.count:,} (exact: {est.exact}, "
            f"sample {est.sampled:,})",
            t_est,
            first,
        )
    )
    out.append(
        line(
            f"  the exact count {exact:,} (estimate off by {abs(est.count - exact) / exact:.2%})",
            t_exact,
            first,
        )
    )
    nums = {"pt_position_z": 100.0}
    t_num = best(lambda: big.estimate_annotation_count("big", filters=nums), repeat)
    out.append(line("count of pt_position_z = 100 (estimate)", t_num, first))
    details = best(lambda: many.get_table_details(), repeat)
    names = best(lambda: many.get_tables(), repeat)
    out.append(line("get_table_details of 1,000 tables vs get_tables (names)", details, names, 5.0))
    out.append(f"  (load average at the end: {loadavg()})")
    return out


def one_sample(kind: str, url: str | None) -> None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    big = connect(kind, "scale_big", url)
    live = big.get_table_details()[0]["live_count"]
    t = time.perf_counter()
    points, _, _ = big.get_point_frame("big")
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": len(points),
                "live": live,
                "seconds": seconds,
                "peak_rss_mb": peak,
                "base_rss_mb": base,
            }
        )
    )


def one_open(kind: str, url: str | None) -> None:
    """In a fresh process: open the built database (migrating it if it has an older
    layout) and read its table list; the time and the migration steps that ran."""
    import sqlalchemy as sa

    def applied() -> set[str]:
        target = url or f"sqlite:///{OUT / 'data' / 'annotations.sqlite3'}"
        engine = sa.create_engine(target)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table("schema_migrations"):
                    return set()
                return set(conn.exec_driver_sql("SELECT name FROM schema_migrations").scalars())
        finally:
            engine.dispose()

    before = applied()
    t = time.perf_counter()
    tables = connect(kind, "scale_big", url).get_tables()
    seconds = time.perf_counter() - t
    ran = sorted(applied() - before)
    print(json.dumps({"seconds": seconds, "steps": ran, "tables": tables}))


def first_open(kind: str, url: str | None) -> None:
    """Time the first open of data built by an earlier layout (the upgrade a lab waits
    for), once: the result is kept in ``first_open_<kind>.json`` and printed every run."""
    kept = OUT / f"first_open_{kind}.json"
    if not kept.exists():
        extra = ["--database-url", url] if url else []
        out = subprocess.run(
            [sys.executable, __file__, "--one", "open", "--kind", kind, *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(out.stdout.strip().splitlines()[-1])
        got["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
        kept.write_text(json.dumps(got))
    got = json.loads(kept.read_text())
    print(
        f"  {kind}: first open {got['seconds']:.1f} s, migration steps run: "
        f"{', '.join(got['steps']) or 'none'} (load average {' '.join(got['loadavg'])})",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--tables", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--postgresql", action="store_true", help="also on PostgreSQL")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--browser-only", action="store_true", help="only the Chromium figures")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--one", choices=["sample", "open"])
    ap.add_argument("--kind", default="sqlite")
    ap.add_argument("--database-url")
    args = ap.parse_args()
    if args.one == "open":
        one_open(args.kind, args.database_url)
        return
    if args.one:
        one_sample(args.kind, args.database_url)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if args.rebuild:
        for marker in OUT.glob("built_*.json"):
            marker.unlink()
    from bench.scale_pg import KeptCluster

    kinds: list[tuple[str, str | None]] = [("sqlite", None)]
    cluster = KeptCluster(OUT / "pg") if args.postgresql else None
    try:
        if cluster is not None:
            kinds.append(("postgresql", cluster.start(fresh=args.rebuild)))
        for kind, url in kinds:
            if (OUT / f"built_{kind}.json").exists():
                first_open(kind, url)
            build(kind, url, args.rows, args.tables)
        if args.build_only:
            return
        lines = []
        for kind, url in kinds if not args.browser_only else []:
            section = api_figures(kind, url, args.repeat)
            print("\n".join(section), flush=True)
            lines += section
        if not args.no_browser:
            from bench.scale_browser import browser_figures

            lines += browser_figures(OUT / "data", args.repeat)
            lines.append(f"  (load average after the browser figures: {loadavg()})")
        print("\n".join(lines))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
