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
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core.engine import db
from anno_core.engine.migrations import row_counts


def bump(conn: Connection, meta_id: int, *, live: int, total: int, stamp: datetime) -> None:
    """Add ``live`` and ``total`` rows (either may be negative or 0) to a table's counts and
    stamp its last data change, in the caller's transaction."""
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


def repair(engine: Engine) -> tuple[int, list[dict[str, Any]]]:
    """Recompute the counts of every table (deleted ones too), one writer transaction per
    table; (tables checked, what was wrong: id, table_name, before, after)."""
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
        if change is not None:
            fixed.append({"id": meta["id"], "table_name": meta["table_name"], **change})
    return len(metas), fixed
