"""Bringing an existing database up to the code's layout, once, when an engine opens it.

``metadata.create_all`` makes the tables a database lacks, but never adds a column to a
table that exists: a database made by an earlier version keeps its old layout. Each step
here brings one change to such a database. Steps are named and run in list order, inside
the same writer transaction as ``create_all`` (and, on PostgreSQL, under an advisory lock,
so processes opening one database at once take turns); each name is recorded in
``schema_migrations`` and never run again.

A step must be idempotent: on a fresh database ``create_all`` has already made the new
layout, so the step finds nothing to do. Add a step by appending ``(name, function)`` to
``STEPS``; never rename or reorder the steps that are there. Identifiers in DDL come from
our own catalogue and numeric table ids, never from user text, and are quoted by the
dialect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import dialect

migrations = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied", sa.DateTime, nullable=False),
)

Step = Callable[[Connection], None]
ANNO_TABLE = re.compile(r"anno_[0-9]+")


def columns_of(conn: Connection, table_name: str) -> set[str]:
    """The column names a stored table has now."""
    return {c["name"] for c in sa.inspect(conn).get_columns(table_name)}


def add_column(conn: Connection, table_name: str, column: sa.Column) -> bool:
    """Add ``column`` (name, type, nullable, no default) to a stored table unless it has it."""
    if column.name in columns_of(conn, table_name):
        return False
    prep = conn.dialect.identifier_preparer
    ddl = (
        f"ALTER TABLE {prep.quote(table_name)} ADD COLUMN {prep.quote(column.name)} "
        f"{column.type.compile(dialect=conn.dialect)}"
    )
    conn.exec_driver_sql(ddl)
    return True


def annotation_table_names(conn: Connection) -> list[str]:
    """The stored SQL tables of every annotation table (``anno_<id>``), deleted ones too."""
    names = sa.inspect(conn).get_table_names()
    return sorted((n for n in names if ANNO_TABLE.fullmatch(n)), key=lambda n: int(n[5:]))


def _volume_layers(conn: Connection) -> None:
    """Aligned volumes get the image and segmentation sources Neuroglancer draws."""
    for name in ("image_source", "segmentation_source"):
        add_column(conn, "aligned_volumes", sa.Column(name, sa.Text, nullable=True))


STEPS: list[tuple[str, Step]] = [
    ("aligned_volume_neuroglancer_layers", _volume_layers),
]
"""The steps, in the order they run. Append only."""


def migrate(conn: Connection, stamp: datetime) -> list[str]:
    """Run the steps this database has not had yet (recorded at ``stamp``); their names."""
    dialect.lock_schema(conn)
    migrations.create(conn, checkfirst=True)
    done = set(conn.execute(sa.select(migrations.c.name)).scalars())
    ran = []
    for name, step in STEPS:
        if name in done:
            continue
        step(conn)
        conn.execute(migrations.insert().values(name=name, applied=stamp))
        ran.append(name)
    return ran
