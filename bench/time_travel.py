"""Time travel benchmark: reads at a past moment of the 10,000,000-row table, against the same
reads of the live rows (the floor), in the same run.

The table is the one bench/export.py builds (``bench/out/export_<rows>/``: ten batches of
1,000,000 rows, then 1,000 rows updated and 1,000 deleted). Moments: just after the first
batch (1 M rows existed), after the fifth (5 M), and now. Reads: the first page of 50 rows,
a page at offset rows/20 (inside the first batch), and the count. Best of ``--repeat`` each.
A whole table's count at a moment is one entry of its count log (engine/count_log.py).

With ``--migration``: the time the migration ``count_logs`` takes to build the table's log
from its rows (as for a database made before the log), without and with the old
``(created, deleted)`` index, each in a transaction rolled back afterwards; the rebuilt log
must equal the one the writes logged.

    .venv/bin/python bench/time_travel.py [--rows 10000000] [--repeat 5] [--migration]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--migration", action="store_true", help="time the count log's rebuild")
    args = ap.parse_args()
    data = OUT / f"export_{args.rows}"
    if not (data / "READY").exists():
        sys.exit(f"build the table first: .venv/bin/python bench/export.py --rows {args.rows}")
    sys.path.insert(0, str(ROOT))
    import anno_core
    from anno_core.moments import parse_moment

    c = anno_core.connect(data_dir=data)
    if args.migration:
        migration(c)
        return
    t = "synapses"
    first = parse_moment(c.get_annotation(t, [1_000_000])[0]["created"])
    fifth = parse_moment(c.get_annotation(t, [5_000_000])[0]["created"])
    moments = {"1 M rows existed": first, "5 M rows existed": fifth, "now (as a moment)": None}
    deep = args.rows // 20  # within the first batch: every moment has rows there
    print(f"table: {args.rows:,} rows; best of {args.repeat}")
    floor = {
        "page 1": best(lambda: c.query_annotations(t, limit=50), args.repeat),
        "deep page": best(lambda: c.query_annotations(t, limit=50, offset=deep), args.repeat),
        "count": best(lambda: c.count_annotations(t), args.repeat),
    }
    print("live rows (floor): " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in floor.items()))
    for label, at in moments.items():
        stamp = at or parse_moment(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
        got = {
            "page 1": best(
                lambda s=stamp: c.query_annotations(t, limit=50, timestamp=s), args.repeat
            ),
            "deep page": best(
                lambda s=stamp: c.query_annotations(t, limit=50, offset=deep, timestamp=s),
                args.repeat,
            ),
            "count": best(lambda s=stamp: c.count_annotations(t, timestamp=s), args.repeat),
        }
        print(
            f"at {label}: "
            + ", ".join(f"{k} {v * 1000:.0f} ms ({v / floor[k]:.1f}x)" for k, v in got.items())
        )


def migration(client) -> None:  # type: ignore[no-untyped-def]
    """Time the count log's rebuild from the rows, as an older database gets it."""
    import sqlalchemy as sa

    from anno_core.engine import db, migrations

    log = db.count_log
    q = sa.select(log.c.table_meta_id, log.c.at, log.c.live_count, log.c.total_count)
    q = q.order_by(log.c.id)
    for old_index in (False, True):
        with client.backend.engine.connect().execution_options(anno_write=True) as conn:
            tx = conn.begin()
            logged = [tuple(r) for r in conn.execute(q)]
            conn.execute(log.delete())
            for name in migrations.annotation_table_names(conn):
                if old_index:  # the layout before the log: the index the step drops
                    t = sa.Table(name, sa.MetaData(), autoload_with=conn)
                    index = migrations.AS_OF_INDEX.format(table=name)
                    sa.Index(index, t.c.created, t.c.deleted).create(conn)
            start = time.perf_counter()
            migrations.count_logs(conn)
            took = time.perf_counter() - start
            rebuilt = [tuple(r) for r in conn.execute(q)]
            tx.rollback()
        assert rebuilt == logged, "the rebuilt log differs from the one the writes logged"
        print(
            f"count_logs {'with' if old_index else 'without'} the (created, deleted) index: "
            f"{took:.1f} s, {len(rebuilt)} entries (as the writes logged them)"
        )


if __name__ == "__main__":
    main()
