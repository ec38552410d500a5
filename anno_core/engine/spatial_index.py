"""The spatial index of each table: (key, id) pairs in key order, kept beside the table.

Storing rows costs nothing more than one queue entry (`queue`: the runs of ids just
stored, in the write transaction): keeping a second index in key order while a million
rows go in would make every upload slower. The index is brought up to date when someone
opens the table in Neuroglancer (`catch_up`): the queued rows' anchors are read, their keys
(`anno_core.neuroglancer.spatial`) computed and inserted in key order, in transactions of
at most `BATCH` rows, so a crash loses nothing and the next catch-up resumes. A table
stored before the index existed is queued whole the first time. Rows deleted or superseded
later keep their entry; reads join the table and keep valid rows only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db, dialect
from anno_core.neuroglancer import encoding
from anno_core.neuroglancer.layout import Layout
from anno_core.neuroglancer.spatial import spatial_keys

BATCH = 500_000
"""Most ids one catch-up transaction indexes (the writer lock is held meanwhile)."""
MAX_RUNS = 100
"""More runs than this in one write are queued as one run from the least to the most."""

_P = db.spatial_pending
_E = db.spatial_extents


def queue(conn: Connection, meta_id: int, ids: np.ndarray) -> None:
    """Queue rows just stored (in the caller's write transaction)."""
    arr = np.unique(np.asarray(ids, dtype=np.int64))
    if arr.size == 0:
        return
    breaks = np.flatnonzero(np.diff(arr) != 1)
    starts = np.concatenate(([arr[0]], arr[breaks + 1]))
    ends = np.concatenate((arr[breaks], [arr[-1]]))
    if len(starts) > MAX_RUNS:  # rows already indexed in between are skipped when indexed
        starts, ends = starts[:1], ends[-1:]
    conn.execute(
        _P.insert(),
        [
            {"table_meta_id": int(meta_id), "lo": int(a), "hi": int(b)}
            for a, b in zip(starts, ends, strict=True)
        ],
    )


def up_to_date(conn: Connection, meta_id: int) -> bool:
    """Whether the table's index holds every stored row (no write needed)."""
    known = conn.execute(sa.select(_E.c.table_meta_id).where(_E.c.table_meta_id == meta_id))
    if known.first() is None:
        return False
    waiting = conn.execute(sa.select(_P.c.id).where(_P.c.table_meta_id == meta_id).limit(1))
    return waiting.first() is None


def extent(conn: Connection, meta_id: int) -> tuple[list[float], list[float]] | None:
    """(lowest, highest) anchor of the table's indexed rows in nm, or None (no rows)."""
    row = conn.execute(sa.select(_E).where(_E.c.table_meta_id == meta_id)).mappings().first()
    if row is None or row["min_x"] is None:
        return None
    return [row[f"min_{a}"] for a in "xyz"], [row[f"max_{a}"] for a in "xyz"]


def catch_up(backend: Any, meta: dict[str, Any], lay: Layout, t: sa.Table) -> None:
    """Index every queued row of a table (one writer transaction per `BATCH` ids)."""
    meta_id = int(meta["id"])
    with backend.engine.connect() as conn:
        if up_to_date(conn, meta_id):
            return
    side = db.spatial_table(meta_id)
    resolution = np.array([float(meta[f"voxel_resolution_{a}"]) for a in "xyz"])
    while True:
        with backend._write_lock, backend.write_conn() as conn, conn.begin():
            db.lock_table_row(conn, meta_id)
            side.create(conn, checkfirst=True)
            _first_time(conn, meta_id, t)
            job = (
                conn.execute(
                    sa.select(_P).where(_P.c.table_meta_id == meta_id).order_by(_P.c.id).limit(1)
                )
                .mappings()
                .first()
            )
            if job is None:
                return
            lo, hi = int(job["lo"]), int(job["hi"])
            top = min(hi, lo + BATCH - 1)
            _index(conn, meta_id, lay, t, side, resolution, lo, top)
            if top >= hi:
                conn.execute(_P.delete().where(_P.c.id == job["id"]))
            else:
                conn.execute(_P.update().where(_P.c.id == job["id"]).values(lo=top + 1))


def _first_time(conn: Connection, meta_id: int, t: sa.Table) -> None:
    """The first catch-up of a table queues every row stored before (ids may repeat rows
    queued by writes since: those are skipped when indexed)."""
    if conn.execute(sa.select(_E.c.table_meta_id).where(_E.c.table_meta_id == meta_id)).first():
        return
    conn.execute(_E.insert().values(table_meta_id=meta_id))
    lo, hi = conn.execute(sa.select(sa.func.min(t.c.id), sa.func.max(t.c.id))).one()
    if lo is not None:
        conn.execute(_P.insert().values(table_meta_id=meta_id, lo=int(lo), hi=int(hi)))


def _index(
    conn: Connection,
    meta_id: int,
    lay: Layout,
    t: sa.Table,
    side: sa.Table,
    resolution: np.ndarray,
    lo: int,
    hi: int,
) -> None:
    """Add rows lo..hi (by id) to the index and widen the table's extent."""
    cols = [t.c.id] + [t.c[c] for f in lay.ends for c in (f"{f}_x", f"{f}_y", f"{f}_z")]
    frame = dialect.read_frame(conn, sa.select(*cols).where(t.c.id >= lo, t.c.id <= hi))
    if frame.empty:
        return
    nm = encoding.anchors(lay, frame) * resolution
    keys = spatial_keys(frame["id"].to_numpy(dtype=np.int64), nm)
    ok = keys >= 0
    if not ok.any():
        return
    order = np.argsort(keys[ok], kind="stable")
    pairs = zip(keys[ok][order].tolist(), frame["id"].to_numpy()[ok][order].tolist(), strict=True)
    dialect.insert_pairs(conn, side, list(pairs))
    found = nm[ok]
    old = conn.execute(sa.select(_E).where(_E.c.table_meta_id == meta_id)).mappings().one()
    values = {}
    for i, a in enumerate("xyz"):
        low, high = float(found[:, i].min()), float(found[:, i].max())
        values[f"min_{a}"] = low if old[f"min_{a}"] is None else min(low, old[f"min_{a}"])
        values[f"max_{a}"] = high if old[f"max_{a}"] is None else max(high, old[f"max_{a}"])
    conn.execute(_E.update().where(_E.c.table_meta_id == meta_id).values(**values))
