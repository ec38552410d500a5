"""What views need of the layout, in one place for the layout (db.py) and the migrations
that bring older databases to it (migrations.py): the sample level column, the indexes
views read, and the counts kept per table.

The indexes: (valid, sample_level) finds the highest sample levels of the live rows (and of
the dead ones) from the index alone (3D views, estimates; see sampling.py); each tag-like
text field people filter on gets (value, valid), which counts the live rows with a value
from the index alone and lists a field's distinct values one index step at a time.
"""

from __future__ import annotations

import sqlalchemy as sa

from anno_core.schemas import SchemaSpec

SAMPLE_COLUMN = "sample_level"
"""Per row: the level of its sample key (sampling.sample_level(id)), set at insert."""


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


def view_indexes(name: str, spec: SchemaSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(index name, columns) of the indexes views of SQL table ``name`` rely on."""
    out = [(f"ix_{name}_sample", ("valid", SAMPLE_COLUMN))]
    for f in spec.data_fields:
        if f.kind == "str":
            out.append((f"ix_{name}_{f.column}", (f.column, "valid")))
    return out


def add_view_indexes(table: sa.Table, spec: SchemaSpec) -> list[sa.Index]:
    """The view indexes of ``table``, attached to it (created with it)."""
    return [
        sa.Index(index_name, *(table.c[c] for c in columns))
        for index_name, columns in view_indexes(table.name, spec)
    ]
