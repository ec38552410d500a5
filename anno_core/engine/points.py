"""Samples of a table's rows, read by the database: the 3D views' points and estimates.

The sample of size N is the N rows with the smallest sample keys (`sampling`). The database
finds them from the index on (valid, sample_level): one look in the index for the level
that holds the N-th row, then the rows of that level and above (about 2N at most), of which
the N with the smallest keys are kept. Nothing else of the table is read, so the cost is
the same for ten thousand rows or ten million.
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
from anno_core.engine.sampling import smallest_keys


def cut_level(conn: Connection, table: sa.Table, valid: bool, n: int) -> int:
    """The level of the ``n``-th row of the given validity in level order (highest first),
    from the index alone; 0 when there are fewer rows (then every level is needed)."""
    level = table.c[db.SAMPLE_COLUMN]
    got = conn.execute(
        sa.select(level)
        .where(table.c.valid == valid)
        .order_by(level.desc())
        .limit(1)
        .offset(max(0, n - 1))
    ).scalar()
    return 0 if got is None else int(got)


def sample_query(
    conn: Connection, table: sa.Table, columns: Sequence[sa.ColumnElement], n: int, live_only: bool
) -> sa.sql.Select:
    """A query of ``columns`` over the rows that hold the ``n`` smallest sample keys (and
    at most about as many more): the highest sample levels of the live rows (and of the
    others, unless ``live_only``)."""
    level = table.c[db.SAMPLE_COLUMN]
    parts = []
    for valid in (True,) if live_only else (True, False):
        cut = cut_level(conn, table, valid, n)
        parts.append(sa.and_(table.c.valid == valid, level >= cut))
    return sa.select(*columns).where(sa.or_(*parts) if len(parts) > 1 else parts[0])


def read_sample(
    conn: Connection,
    table: sa.Table,
    kinds: dict[str, str],
    n: int = MAX_SAMPLE,
    live_only: bool = True,
) -> pd.DataFrame:
    """The columns ``kinds`` (name -> kind, see `columnar`; "id" first) of the ``n`` live rows
    (or rows, without ``live_only``) with the smallest sample keys, in key order."""
    if n <= 0:
        return pd.DataFrame({c: np.empty(0) for c in kinds})
    q = sample_query(conn, table, [table.c[c] for c in kinds], n, live_only)
    frame = fetch_columns(conn, q, kinds)
    keep = smallest_keys(frame["id"].to_numpy(np.int64), n)
    return frame.iloc[keep].reset_index(drop=True)
