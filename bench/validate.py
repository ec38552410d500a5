"""Validation benchmark: rows per second against caveclient's StagedAnnotations.add_dataframe.

The same 20,000-row synapse frame (three [x, y, z] list columns and a size, as caveclient's
add_dataframe wants) goes through caveclient 8.2.1's ``StagedAnnotations.add_dataframe``
(jsonschema per row), our ``StagedAnnotations.add_dataframe`` (the same job: check and keep
every row), and our bare ``validate_frame``. Best of ``--repeat``. Target: >= 100x.

    .venv/bin/python bench/validate.py [--rows 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anno_core.ingest.frames import frame_for_table  # noqa: E402
from anno_core.ingest.staged import StagedAnnotations  # noqa: E402
from anno_core.schemas import json_schema, schema_spec  # noqa: E402
from anno_core.validation.validator import validate_frame  # noqa: E402


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    out = {}
    for p in ("pre_pt", "post_pt", "ctr_pt"):
        out[f"{p}_position"] = rng.integers(0, 200_000, size=(rows, 3)).tolist()
    out["size"] = np.round(rng.gamma(2.0, 200.0, rows), 1)
    return pd.DataFrame(out)


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from caveclient.tools.stage import StagedAnnotations as CaveStaged

    df = make_frame(args.rows)
    spec = schema_spec("synapse")
    schema = json_schema("synapse")

    def cave() -> None:
        CaveStaged(schema, name="synapse").add_dataframe(df)

    def staged() -> None:
        s = StagedAnnotations(spec)
        s.add_dataframe(df)
        assert len(s) == args.rows

    def bare() -> None:
        assert validate_frame(spec, frame_for_table(spec, df, None)).report.ok

    t_cave = best(cave, 1 if args.rows > 5000 else args.repeat)
    t_staged = best(staged, args.repeat)
    t_bare = best(bare, args.repeat)
    n = args.rows
    print(f"{n:,}-row synapse frame, [x, y, z] list columns")
    print(
        f"caveclient 8.2.1 StagedAnnotations.add_dataframe: {t_cave:.2f} s "
        f"= {n / t_cave:,.0f} rows/s"
    )
    print(
        f"ours StagedAnnotations.add_dataframe: {t_staged:.3f} s = {n / t_staged:,.0f} rows/s "
        f"({t_cave / t_staged:.0f}x)"
    )
    print(
        f"ours validate_frame: {t_bare:.3f} s = {n / t_bare:,.0f} rows/s "
        f"({t_cave / t_bare:.0f}x; target >= 100x)"
    )


if __name__ == "__main__":
    main()
