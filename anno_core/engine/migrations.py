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

from anno_core.engine import count_log, dialect, indexes
from anno_core.engine.sampling import sample_level
from anno_core.schemas import schema_spec

migrations = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied", sa.DateTime, nullable=False),
)

Step = Callable[[Connection], None]
ANNO_TABLE = re.compile(r"anno_[0-9]+")
META = "annotation_table_metadata"


def columns_of(conn: Connection, table_name: str) -> set[str]:
    """The column names a stored table has now."""
    return {c["name"] for c in sa.inspect(conn).get_columns(table_name)}


def add_column(conn: Connection, table_name: str, column: sa.Column) -> bool:
    """Add ``column`` to a stored table unless it has it: its name and type, and, when it
    has a plain server default (a number), that default and NOT NULL (existing rows take
    the default). Otherwise nullable, no default."""
    if column.name in columns_of(conn, table_name):
        return False
    prep = conn.dialect.identifier_preparer
    ddl = (
        f"ALTER TABLE {prep.quote(table_name)} ADD COLUMN {prep.quote(column.name)} "
        f"{column.type.compile(dialect=conn.dialect)}"
    )
    default = getattr(column.server_default, "arg", None)
    if isinstance(default, str) and default.lstrip("-").isdigit():
        ddl += f" DEFAULT {int(default)}" + ("" if column.nullable else " NOT NULL")
    conn.exec_driver_sql(ddl)
    return True


def index_names(conn: Connection, table_name: str) -> set[str]:
    """The names of a stored table's indexes."""
    return {ix["name"] for ix in sa.inspect(conn).get_indexes(table_name)}


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
"""The name of the time travel index annotation tables had (step 'count_logs' drops it)."""


def as_of_indexes(conn: Connection) -> None:
    """Nothing any more (kept: steps are never renamed or removed). It gave every annotation
    table a (created, deleted) index, which cost every insert a second key for one read, a
    whole table's count at a moment; the count log answers that now (step 'count_logs')."""


def _metas(conn: Connection) -> dict[int, str]:
    """Metadata id -> schema name of every annotation table (deleted ones too)."""
    meta = sa.Table(META, sa.MetaData(), autoload_with=conn)
    return {int(i): s for i, s in conn.execute(sa.select(meta.c.id, meta.c.schema_type))}


def sample_and_view_indexes(conn: Connection) -> None:
    """Every annotation table gets its rows' sample level (computed from the ids, in chunks
    of ids) and the indexes views read: the sample's and each text field's."""
    schemas = _metas(conn)
    for name in annotation_table_names(conn):
        schema = schemas.get(int(name[5:]))
        if schema is None:  # no metadata row: nothing can read it, nothing to index
            continue
        add_column(conn, name, indexes.sample_column())
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        level = table.c[indexes.SAMPLE_COLUMN]
        last = None
        while True:  # keyset over the ids still without a level
            q = sa.select(table.c.id).where(level.is_(None)).order_by(table.c.id).limit(50_000)
            if last is not None:
                q = q.where(table.c.id > last)
            ids = [int(i) for i in conn.execute(q).scalars()]
            if not ids:
                break
            dialect.set_by_id(conn, table, indexes.SAMPLE_COLUMN, ids, sample_level(ids))
            last = ids[-1]
        have = index_names(conn, name)
        for index in indexes.view_indexes(table, schema_spec(schema)):
            if index.name not in have:
                index.create(conn)


def row_counts(conn: Connection, table: sa.Table) -> tuple[int, int, datetime | None]:
    """(live rows, all rows, latest creation or deletion) of a stored table, counted."""
    live, total, created, deleted = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((table.c.valid, 1), else_=0)), 0),
            sa.func.count(),
            sa.func.max(table.c.created),
            sa.func.max(table.c.deleted),
        ).select_from(table)
    ).one()
    # SQLite hands back text from an aggregate of a DateTime column.
    times = [
        t if isinstance(t, datetime) else datetime.fromisoformat(str(t))
        for t in (created, deleted)
        if t is not None
    ]
    return int(live), int(total), max(times) if times else None


def counts_and_last_data_change(conn: Connection) -> None:
    """Tables' metadata gets live and total counts and the time of the last data change,
    counted from the rows once here and kept by every write from now on."""
    for column in indexes.count_columns():
        add_column(conn, META, column)
    meta = sa.Table(META, sa.MetaData(), autoload_with=conn)
    stored = set(annotation_table_names(conn))
    for meta_id in sorted(_metas(conn)):
        if f"anno_{meta_id}" not in stored:
            continue
        table = sa.Table(f"anno_{meta_id}", sa.MetaData(), autoload_with=conn)
        live, total, when = row_counts(conn, table)
        conn.execute(
            meta.update()
            .where(meta.c.id == meta_id)
            .values(live_count=live, total_count=total, last_data_change=when)
        )


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


def _volume_layers(conn: Connection) -> None:
    """Aligned volumes get the image and segmentation sources Neuroglancer draws."""
    for name in ("image_source", "segmentation_source"):
        add_column(conn, "aligned_volumes", sa.Column(name, sa.Text, nullable=True))


def count_logs(conn: Connection) -> None:
    """Every annotation table gets its count log, built once from its rows (one entry per
    distinct stamp, i.e. per write), and loses the time travel index if it has it."""
    log = count_log.log_table(sa.MetaData())
    schemas = _metas(conn)
    for name in annotation_table_names(conn):
        meta_id = int(name[5:])
        stub = sa.Table(
            name,
            sa.MetaData(),
            sa.Column("created", sa.DateTime),
            sa.Column("deleted", sa.DateTime),
        )
        logged = sa.select(log.c.id).where(log.c.table_meta_id == meta_id).limit(1)
        if meta_id in schemas and conn.execute(logged).first() is None:
            count_log.rebuild(conn, log, stub, meta_id)  # before the drop: the index helps
        index = AS_OF_INDEX.format(table=name)
        if index in index_names(conn, name):
            sa.Index(index, stub.c.created, stub.c.deleted).drop(conn)


STEPS: list[tuple[str, Step]] = [
    ("users_disabled_last_seen", _users_disabled_last_seen),
    ("groups_from_members", _groups_from_members),
    ("audit_log_volume_index", _audit_log_index),
    ("upload_keys_digest", _upload_key_digest),
    ("as_of_indexes", as_of_indexes),
    ("sample_and_view_indexes", sample_and_view_indexes),
    ("counts_and_last_data_change", counts_and_last_data_change),
    ("upload_keys.user_id", _upload_key_user),
    ("aligned_volumes.bounds", _volume_bounds),
    ("audit_log.ix_table_at", _audit_table_at),
    ("aligned_volume_neuroglancer_layers", _volume_layers),
    ("count_logs", count_logs),
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
