"""What views need of the layout, in one place for the layout (db.py) and the migrations
that bring older databases to it (migrations.py): the sample level column, the indexes
views read, and the counts kept per table.

The indexes: (valid, sample_level) finds the highest sample levels of the live rows (and of
the dead ones) from the index alone (3D views, estimates; see sampling.py). It holds only
the rows of level SAMPLE_FLOOR and above (an eighth of them): every row it holds costs the
insert that adds it, and a sample of N rows from a table of more than 8N rows lies in that
eighth; a smaller table is read whole (engine/points.py). It carries the point columns
too, after the id, so a sample is a stretch of the index, not one table page per row
(which, for 100,000 rows scattered over ten million, took twice as long on SQLite), and
a new row still lands at the end of its level. Each tag-like text field people filter on gets
(value, valid), which counts the live rows with a value from the index alone and lists a
field's distinct values one index step at a time.
"""

from __future__ import annotations

import sqlalchemy as sa

from anno_core.schemas import SchemaSpec

SAMPLE_COLUMN = "sample_level"
"""Per row: the level of its sample key (sampling.sample_level(id)), set at insert."""
SAMPLE_FLOOR = 12
"""The lowest sample level the sample index holds (levels >= 12: an eighth of the rows)."""
INDEXED_SHARE = 8
"""One row in INDEXED_SHARE is in the sample index (2 ** (SAMPLE_FLOOR / 4))."""


def in_sample_index(table: sa.Table) -> sa.sql.ColumnElement:
    """The condition of the sample index, as a query must write it to use the index.

    Planners use a partial index only for a query that states its condition word for word,
    with the number as a literal. Written ``level + 0 >= 12``, it is no range on the level
    itself, so the query's own range (``level >= cut``) is the one the index is searched
    by: with two ranges on one column SQLite takes the first written, and searching from
    level 12 read eight times the rows."""
    return table.c[SAMPLE_COLUMN] + sa.literal_column("0") >= sa.literal_column(str(SAMPLE_FLOOR))


def sample_column() -> sa.Column:
    """The sample level column (nullable only so a migration can add it, then fill it)."""
    return sa.Column(SAMPLE_COLUMN, sa.SmallInteger, nullable=True)


def count_columns() -> list[sa.Column]:
    """The columns of a table's metadata that the writes keep (engine/counts.py)."""
    return [
        sa.Column("live_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("total_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_data_change", sa.DateTime, nullable=True),  # last insert/update/delete
    ]


def view_indexes(table: sa.Table, spec: SchemaSpec) -> list[sa.Index]:
    """The indexes views of ``table`` rely on, attached to it (created with it)."""
    name = table.name
    partial = in_sample_index(table)
    points = [table.c[c] for f in spec.point_fields for c in f.storage_columns]
    out = [
        sa.Index(
            f"ix_{name}_sample",
            table.c.valid,
            table.c[SAMPLE_COLUMN],
            # the id next: inside a level new rows come last (an append, as in an id index);
            # the points after it only ride along (SQLite has no INCLUDE)
            table.c.id,
            *points,
            sqlite_where=partial,
            postgresql_where=partial,
        )
    ]
    for f in spec.data_fields:
        if f.kind == "str":
            out.append(sa.Index(f"ix_{name}_{f.column}", table.c[f.column], table.c.valid))
    return out
