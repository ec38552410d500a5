"""The count log: a table's live and total rows after each write, by the write's stamp.

A count of a whole table at a past moment is the newest entry at or before that moment (0
before the first): one index probe, whatever the table's size, where counting the rows
that existed then reads every row. `counts.bump` appends an entry in each write's own
transaction (a rollback takes it back with the rows); this module holds the layout and the
one-off rebuild of a table's log from its rows (the migration of databases made before).

Every write stamps its new rows' ``created``, its old rows' ``deleted`` and its entry with
one instant, so the entry at a stamp says what the rows say at it (``reads.as_of``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

NAME = "count_log"
BATCH = 10_000
"""Entries a rebuild inserts at once (memory stays one batch, whatever the history)."""


def log_table(metadata: sa.MetaData) -> sa.Table:
    """The count log's layout in ``metadata`` (the catalogue's, or a migration's own)."""
    table = sa.Table(
        NAME,
        metadata,
        # On SQLite an INTEGER primary key is the rowid (no second index); 64-bit anyway.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("table_meta_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("live_count", sa.BigInteger, nullable=False),
        sa.Column("total_count", sa.BigInteger, nullable=False),
    )
    # "The newest entry of table m at or before T": the last key of a range of this index
    # (id breaks ties between writes that got the same stamp: the later one wins).
    sa.Index("ix_count_log_table_at", table.c.table_meta_id, table.c.at, table.c.id)
    return table


def newest_at(
    conn: Connection, log: sa.Table, meta_id: int, at: datetime | None
) -> tuple[int, int] | None:
    """(live, total) of table ``meta_id``'s newest entry at or before ``at`` (None: the
    newest of all), or None when it has none then."""
    q = sa.select(log.c.live_count, log.c.total_count).where(log.c.table_meta_id == int(meta_id))
    if at is not None:
        q = q.where(log.c.at <= at)
    row = conn.execute(q.order_by(log.c.at.desc(), log.c.id.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), int(row[1]))


def _stamps(conn: Connection, column: sa.Column, sign: int) -> Iterator[tuple[datetime, int]]:
    """(stamp, rows) per distinct value of ``column``, oldest first, streamed."""
    q = (
        sa.select(column, sa.func.count())
        .where(column.isnot(None))
        .group_by(column)
        .order_by(column)
    )
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(q)
    for stamp, n in result:
        yield stamp, sign * int(n)


def rebuild(conn: Connection, log: sa.Table, rows: sa.Table, meta_id: int) -> int:
    """Append table ``meta_id``'s log as its rows tell it (``rows`` needs ``created`` and
    ``deleted``): one entry per distinct stamp, the running counts merged in time order
    from one GROUP BY each; memory is one batch. The number of entries written."""
    made = _stamps(conn, rows.c.created, +1)  # a row made: one more in all, one more live
    gone = _stamps(conn, rows.c.deleted, -1)  # deleted or superseded: one live fewer
    merged = heapq.merge(made, gone, key=lambda e: e[0])
    live = total = written = 0
    batch: list[dict] = []
    for stamp, events in itertools.groupby(merged, key=lambda e: e[0]):
        for _, n in events:
            live += n
            total += max(n, 0)
        batch.append(
            {"table_meta_id": meta_id, "at": stamp, "live_count": live, "total_count": total}
        )
        if len(batch) == BATCH:
            conn.execute(log.insert(), batch)
            written, batch = written + len(batch), []
    if batch:
        conn.execute(log.insert(), batch)
    return written + len(batch)
