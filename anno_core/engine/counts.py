"""Live and total row counts per table, kept exact by the writes themselves.

Every write changes its table's counts (and the time of its last data change) in its own
transaction, with a relative update (``total_count = total_count + n``), so a rollback takes
the change back with the rows and concurrent writers never lose one another's changes.
Listing a thousand tables then reads a thousand metadata rows and nothing else.

What changes what: an insert of n rows adds n live and n total rows; an update of n rows
adds n total rows (new versions) and no live ones (each replaces a live row; a replaced row
that was already deleted was not live, so it adds a live row back); a delete takes away the
rows it marks; reference tables that follow their targets get new versions as by an update.
`repair` recomputes every table's counts from its rows, for a database changed by hand or by
an older version of this code.

Each change also appends the counts after it to the table's count log (engine/count_log.py),
stamped with the write's one instant, so `count_at` answers a whole table's count at any
past moment from one index probe, exactly as counting the rows that existed then would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core.engine import count_log, db
from anno_core.engine.migrations import row_counts


def bump(conn: Connection, meta_id: int, *, live: int, total: int, stamp: datetime) -> None:
    """Add ``live`` and ``total`` rows (either may be negative or 0) to a table's counts,
    stamp its last data change and log the counts after it at ``stamp``, in the caller's
    transaction."""
    m = db.tables_meta
    conn.execute(
        m.update()
        .where(m.c.id == int(meta_id))
        .values(
            live_count=m.c.live_count + int(live),
            total_count=m.c.total_count + int(total),
            last_data_change=stamp,
        )
    )
    log_counts(conn, meta_id, stamp)


def log_counts(conn: Connection, meta_id: int, stamp: datetime) -> None:
    """Append a table's counts as they are now in this transaction to its log, at ``stamp``."""
    m, log = db.tables_meta, db.count_log
    # One statement copying the counts the update just made (relative updates never read
    # them back into Python, so concurrent writers' changes are never lost here either).
    then = sa.select(m.c.id, sa.literal(stamp, sa.DateTime), m.c.live_count, m.c.total_count)
    conn.execute(
        log.insert().from_select(
            ["table_meta_id", "at", "live_count", "total_count"],
            then.where(m.c.id == int(meta_id)),
        )
    )


def count_at(conn: Connection, meta_id: int, at: datetime, include_invalid: bool = False) -> int:
    """Rows of a whole table at ``at`` (live ones, or all with ``include_invalid``) from its
    count log: the newest entry at or before ``at``, 0 before the first."""
    found = count_log.newest_at(conn, db.count_log, meta_id, at)
    if found is None:
        return 0
    return found[1] if include_invalid else found[0]


def recount(
    conn: Connection, meta_id: int, table: sa.Table, *, stamp_too: bool = False
) -> dict[str, Any] | None:
    """Set a table's counts to what its rows say; what was wrong (before/after), or None."""
    m = db.tables_meta
    row = conn.execute(
        sa.select(m.c.live_count, m.c.total_count, m.c.last_data_change).where(m.c.id == meta_id)
    ).one()
    live, total, when = row_counts(conn, table)
    values: dict[str, Any] = {}
    if (int(row[0]), int(row[1])) != (live, total):
        values.update(live_count=live, total_count=total)
    if stamp_too and row[2] is None and when is not None:
        values["last_data_change"] = when
    if not values:
        return None
    conn.execute(m.update().where(m.c.id == meta_id).values(**values))
    return {"before": (int(row[0]), int(row[1])), "after": (live, total)}


def _counts(conn: Connection, meta_id: int) -> tuple[int, int]:
    m = db.tables_meta
    row = conn.execute(sa.select(m.c.live_count, m.c.total_count).where(m.c.id == meta_id)).one()
    return int(row[0]), int(row[1])


def repair(engine: Engine) -> tuple[int, list[dict[str, Any]]]:
    """Recompute the counts of every table (deleted ones too), one writer transaction per
    table; (tables checked, what was wrong: id, table_name, before, after).

    The count log stays consistent: when the counts were wrong, or its newest entry differs
    from the counted ones, an entry with the counted totals is appended, stamped now (counts
    at moments from now on are right; the entries before stay as they were logged)."""
    from anno_core.schemas import schema_spec

    m = db.tables_meta
    with engine.connect() as conn:
        metas = [dict(r) for r in conn.execute(sa.select(m).order_by(m.c.id)).mappings()]
    fixed = []
    for meta in metas:
        table = db.annotation_table(meta["id"], schema_spec(meta["schema_type"]))
        with engine.connect().execution_options(anno_write=True) as conn, conn.begin():
            db.lock_table_row(conn, meta["id"])  # no writer of this table meanwhile
            change = recount(conn, meta["id"], table, stamp_too=True)
            newest = count_log.newest_at(conn, db.count_log, meta["id"], None)
            counted = _counts(conn, meta["id"])
            if change is not None or (newest or (0, 0)) != counted:
                log_counts(conn, meta["id"], db.now())
        if change is not None:
            fixed.append({"id": meta["id"], "table_name": meta["table_name"], **change})
    return len(metas), fixed
