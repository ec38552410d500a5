"""3D preview benchmark: the deck of a 1,000,000-row frame against a floor from the same run.

``ui.preview.points_deck`` on a million synapse-like rows coloured by a 4-value column (a
stratified, seeded sample of 100,000 points, positions in nm, a tooltip per point, a layer per
colour and a legend), then ``deck.to_json()`` (what Streamlit sends to the browser). Floor,
same frame, same run: the least any deck of these points costs, a seeded uniform sample of
100,000 row indices, their positions in nm, and ``json.dumps`` of the 100,000 ``{"p": [x, y,
z]}`` records (no tooltips, colours or strata). Best of ``--repeat``. Reported, not asserted:
it replaces a test that asserted wall-clock time ("points_deck under 2 s").

    .venv/bin/python bench/preview.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.preview import MAX_POINTS, points_deck  # noqa: E402

RESOLUTION = [4.0, 4.0, 40.0]


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "pt_position_x": rng.uniform(0, 200_000, rows),
            "pt_position_y": rng.uniform(0, 150_000, rows),
            "pt_position_z": rng.integers(0, 20_000, rows),
            "cell_type": rng.choice(["a", "b", "c", "d"], rows),
        }
    )


def best(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    frame = make_frame(args.rows)
    n_points = min(MAX_POINTS, args.rows)

    def floor() -> str:
        picked = np.random.default_rng(0).choice(args.rows, n_points, replace=False)
        xyz = frame[["pt_position_x", "pt_position_y", "pt_position_z"]].to_numpy(float)
        nm = xyz[picked] * RESOLUTION
        return json.dumps([{"p": p} for p in nm.tolist()], separators=(",", ":"))

    def build() -> object:
        return points_deck(
            frame, position="pt_position", resolution=RESOLUTION, color_by="cell_type"
        )

    def ours() -> str:
        deck, info = build()  # type: ignore[misc]
        assert info.drawn == n_points and info.total == args.rows
        return deck.to_json()

    t_floor, floor_json = best(floor, args.repeat)
    t_build, _ = best(build, args.repeat)
    t_ours, ours_json = best(ours, args.repeat)
    mb = len(ours_json) / 1e6  # type: ignore[arg-type]
    print(f"{args.rows:,} rows -> {n_points:,} points drawn, coloured by a 4-value column")
    print(
        f"floor (uniform sample, nm, json.dumps of positions): {t_floor:.3f} s, "
        f"{len(floor_json) / 1e6:.1f} MB"
    )  # type: ignore[arg-type]
    print(f"ours points_deck: {t_build:.3f} s; with deck.to_json(): {t_ours:.3f} s, {mb:.1f} MB")
    print(f"ratio ours / floor: {t_ours / t_floor:.2f}")


if __name__ == "__main__":
    main()
