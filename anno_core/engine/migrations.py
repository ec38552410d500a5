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


def _upload_key_user(conn: Connection) -> None:
    """upload_keys.user_id: who stored an upload (the Upload page names them)."""
    add_column(conn, "upload_keys", sa.Column("user_id", sa.String(100)))


def _volume_bounds(conn: Connection) -> None:
    """aligned_volumes.bounds_min_x ... bounds_max_z: the extent an admin sets, in nm."""
    for end in ("min", "max"):
        for axis in "xyz":
            add_column(conn, "aligned_volumes", sa.Column(f"bounds_{end}_{axis}", sa.Float))


def _audit_table_at(conn: Connection) -> None:
    """An index on the audit log by volume, table and time (why a version was made)."""
    audit = sa.Table("audit_log", sa.MetaData(), autoload_with=conn)
    index = sa.Index(
        "ix_audit_log_table_at", audit.c.aligned_volume, audit.c.table_name, audit.c.at
    )
    index.create(conn, checkfirst=True)


STEPS: list[tuple[str, Step]] = [
    ("upload_keys.user_id", _upload_key_user),
    ("aligned_volumes.bounds", _volume_bounds),
    ("audit_log.ix_table_at", _audit_table_at),
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
