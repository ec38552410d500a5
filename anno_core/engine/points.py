"""Samples of a table's rows, read by the database: the 3D views' points and estimates.

The sample of size N is the N rows with the smallest sample keys (`sampling`). The database
finds them from the index on (valid, sample_level): one look in the index for the level
that holds the N-th row, then the rows of that level and above (at most about 4N/3), of which
the N with the smallest keys are kept. The index carries the point columns, so those rows
are a stretch of the index: nothing else of the table is read, and the cost is the same
for a million rows or ten million. The index holds an eighth of the rows
(`indexes.INDEXED_SHARE`): a table of at most 8N rows is read whole, and one of more rows
whose indexed eighth holds fewer than N rows of the asked validity (most of its rows dead)
gives those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.common import MAX_SAMPLE
from anno_core.engine import db
from anno_core.engine.columnar import fetch_columns
from anno_core.engine.indexes import INDEXED_SHARE, in_sample_index
from anno_core.engine.sampling import smallest_keys


def cut_level(conn: Connection, table: sa.Table, valid: bool, n: int) -> int | None:
    """The level of the ``n``-th row of the given validity in level order (highest first),
    from the sample index alone; None when the index holds fewer than ``n`` such rows."""
    level = table.c[db.SAMPLE_COLUMN]
    got = conn.execute(
        sa.select(level)
        .where(table.c.valid == valid, in_sample_index(table))
        .order_by(level.desc())
        .limit(1)
        .offset(max(0, n - 1))
    ).scalar()
    return None if got is None else int(got)


def sample_queries(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[sa.ColumnElement],
    n: int,
    parts: Sequence[tuple[bool, int]],
    total: int,
) -> list[sa.sql.Select]:
    """Queries of ``columns`` over rows that hold the ``n`` smallest sample keys of each
    validity in ``parts`` ((valid, rows of that validity)), and at most about as many more:
    the highest sample levels, from the sample index. A table of at most ``n`` times
    INDEXED_SHARE rows in all (``total``) is read whole."""
    level = table.c[db.SAMPLE_COLUMN]
    out = []
    for valid, rows in parts:
        if rows <= 0:
            continue
        cut = cut_level(conn, table, valid, n)
        where = [table.c.valid == valid]
        if cut is not None:
            where += [in_sample_index(table), level >= cut]
        elif total > n * INDEXED_SHARE:  # big, but few indexed rows of this validity:
            where.append(in_sample_index(table))  # those (fewer than n), not the table
        out.append(sa.select(*columns).where(*where))
    return out


def read_sample(
    conn: Connection,
    table: sa.Table,
    kinds: dict[str, str],
    counts: tuple[int, int],
    n: int = MAX_SAMPLE,
    live_only: bool = True,
) -> pd.DataFrame:
    """The columns ``kinds`` (name -> kind, see `columnar`; "id" first) of the ``n`` live
    rows (or rows, without ``live_only``) with the smallest sample keys, in key order;
    ``counts`` is the table's (live, total) rows."""
    live, total = counts
    parts = [(True, live)] + ([] if live_only else [(False, total - live)])
    cols = [table.c[c] for c in kinds]
    frames = [
        fetch_columns(conn, q, kinds) for q in sample_queries(conn, table, cols, n, parts, total)
    ]
    if not frames:
        return fetch_columns(conn, sa.select(*cols).where(sa.false()), kinds)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    keep = smallest_keys(frame["id"].to_numpy(np.int64), n)
    return frame.iloc[keep].reset_index(drop=True)
