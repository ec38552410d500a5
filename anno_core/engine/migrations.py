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


def _users_disabled_last_seen(conn: Connection) -> None:
    """Users gain a disabled flag and the time they were last seen."""
    add_column(conn, "users", sa.Column("disabled", sa.Boolean, nullable=True))
    add_column(conn, "users", sa.Column("last_seen", sa.DateTime, nullable=True))


def _groups_from_members(conn: Connection) -> None:
    """Every group named by a membership gets its row in ``groups`` (made by create_all)."""
    now = sa.func.current_timestamp()
    named = sa.select(sa.distinct(sa.column("group_name"))).select_from(sa.table("user_groups"))
    have = set(conn.execute(sa.select(sa.column("name")).select_from(sa.table("groups"))).scalars())
    for name in conn.execute(named).scalars():
        if name not in have:
            conn.execute(
                sa.table("groups", sa.column("name"), sa.column("created"))
                .insert()
                .values(name=name, created=now)
            )


def _audit_log_index(conn: Connection) -> None:
    """The index the Activity page pages the audit log by (volume, then id)."""
    # The same index as db.audit_by_volume (a constant name, ours); both databases know
    # IF NOT EXISTS, so a database made with the index already is left alone.
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_audit_log_volume_id ON audit_log (aligned_volume, id)"
    )


def _upload_key_digest(conn: Connection) -> None:
    """upload_keys.digest: what a key stored, so a key reused for other content is refused."""
    add_column(conn, "upload_keys", sa.Column("digest", sa.String(64), nullable=True))


AS_OF_INDEX = "ix_{table}_created_deleted"
"""The name of an annotation table's time travel index (db.as_of_index makes it)."""


def as_of_indexes(conn: Connection) -> None:
    """Every annotation table gets the time travel index (``db.as_of_index``)."""
    for name in annotation_table_names(conn):
        stub = sa.Table(
            name,
            sa.MetaData(),
            sa.Column("created", sa.DateTime),
            sa.Column("deleted", sa.DateTime),
        )
        index = sa.Index(AS_OF_INDEX.format(table=name), stub.c.created, stub.c.deleted)
        index.create(conn, checkfirst=True)


STEPS: list[tuple[str, Step]] = [
    ("users_disabled_last_seen", _users_disabled_last_seen),
    ("groups_from_members", _groups_from_members),
    ("audit_log_volume_index", _audit_log_index),
    ("upload_keys_digest", _upload_key_digest),
    ("as_of_indexes", as_of_indexes),
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
