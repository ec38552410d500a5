"""The database: catalogue tables, one SQL table per annotation table, and the dialect seam.

Everything goes through SQLAlchemy Core with bound parameters. Annotation tables are stored
under ``anno_<id>`` (the numeric id of their metadata row), so no name a user typed ever
becomes part of SQL text. Dialect-specific set-up lives in `make_engine` only.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anno_core.engine import count_log as _count_log
from anno_core.engine import dialect, indexes, migrations
from anno_core.schemas import SchemaSpec

metadata = sa.MetaData()
BOUND_ENDS = ("min", "max")

aligned_volumes = sa.Table(
    "aligned_volumes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("created", sa.DateTime, nullable=False),
    # The extent an admin sets for the volume, in nm (all six or none): uploads into an
    # empty table are checked against it.
    *(sa.Column(f"bounds_{end}_{a}", sa.Float, nullable=True) for end in BOUND_ENDS for a in "xyz"),
    # Neuroglancer layers drawn under the volume's tables (precomputed URLs, set by admins).
    sa.Column("image_source", sa.Text, nullable=True),
    sa.Column("segmentation_source", sa.Text, nullable=True),
)

tables_meta = sa.Table(
    "annotation_table_metadata",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("aligned_volume_id", sa.Integer, sa.ForeignKey("aligned_volumes.id"), nullable=False),
    sa.Column("table_name", sa.String(100), nullable=False),
    sa.Column("schema_type", sa.String(100), nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False, default=True),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("deleted", sa.DateTime, nullable=True),
    sa.Column("last_modified", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("notice_text", sa.Text, nullable=True),
    sa.Column("reference_table", sa.String(100), nullable=True),
    sa.Column("track_target_id_updates", sa.Boolean, nullable=True),
    sa.Column("flat_segmentation_source", sa.Text, nullable=True),
    sa.Column("voxel_resolution_x", sa.Float, nullable=False),
    sa.Column("voxel_resolution_y", sa.Float, nullable=False),
    sa.Column("voxel_resolution_z", sa.Float, nullable=False),
    sa.Column("read_permission", sa.String(10), nullable=False),
    sa.Column("write_permission", sa.String(10), nullable=False),
    # Kept by every write in its own transaction (engine/counts.py), so reading them costs
    # nothing and they are exact; `python -m anno_core repair-counts` recomputes them.
    *indexes.count_columns(),
    sa.UniqueConstraint("aligned_volume_id", "table_name", name="uq_volume_table"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("token_hash", sa.String(128), nullable=True, unique=True),
    sa.Column("created", sa.DateTime, nullable=False),
    # A disabled user's token stops working; their tables and rows stay theirs.
    sa.Column("disabled", sa.Boolean, nullable=True),
    sa.Column("last_seen", sa.DateTime, nullable=True),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("created", sa.DateTime, nullable=False),
)

user_emails = sa.Table(
    "user_emails",
    metadata,
    sa.Column("email", sa.String(320), primary_key=True),  # stored lower-cased
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
)

user_groups = sa.Table(
    "user_groups",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("group_name", sa.String(100), primary_key=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", sa.String(100), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("aligned_volume", sa.String(100), nullable=False),
    sa.Column("table_name", sa.String(100), nullable=True),
    sa.Column("ids", sa.Text, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)
# The Activity page reads one volume's log newest first, a page at a time (keyset on id).
audit_by_volume = sa.Index("ix_audit_log_volume_id", audit_log.c.aligned_volume, audit_log.c.id)
# What happened to one table at one moment (why a row was made or deleted, its uploads).
AUDIT_TABLE_AT = sa.Index(
    "ix_audit_log_table_at", audit_log.c.aligned_volume, audit_log.c.table_name, audit_log.c.at
)

upload_keys = sa.Table(
    "upload_keys",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("table_meta_id", sa.Integer, nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("result", sa.Text, nullable=True),
    # sha256 of what the key's upload was given: the same key with other content is refused
    sa.Column("digest", sa.String(64), nullable=True),
    sa.Column("user_id", sa.String(100), nullable=True),  # who stored it (None before it was kept)
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("aligned_volume_id", sa.Integer, sa.ForeignKey("aligned_volumes.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),  # 1, 2, ... per volume (caveclient's)
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("timestamp", sa.DateTime, nullable=False),  # the moment it names
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("deleted", sa.DateTime, nullable=True),
    sa.Column("deleted_by", sa.String(100), nullable=True),
    sa.UniqueConstraint("aligned_volume_id", "name", name="uq_volume_version_name"),
    sa.UniqueConstraint("aligned_volume_id", "number", name="uq_volume_version_number"),
)
"""Named moments of an aligned volume. A deleted version is stamped, never removed, and
keeps its name and number (a paper may cite them)."""

server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
)
"""Random keys made on first need (the HMAC key of signed download links)."""

count_log = _count_log.log_table(metadata)
"""Each table's live and total rows after each write, by the write's stamp (engine/counts.py
appends, count_rows at a moment reads): a table's count at a past moment without its rows."""

# -- the spatial index of each table (engine/spatial_index.py) ---------------------------
spatial_pending = sa.Table(
    "spatial_pending",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("table_meta_id", sa.Integer, nullable=False, index=True),
    sa.Column("lo", sa.BigInteger, nullable=False),
    sa.Column("hi", sa.BigInteger, nullable=False),
)
"""Runs of ids stored but not yet in their table's spatial index (written with the rows)."""

spatial_extents = sa.Table(
    "spatial_extents",
    metadata,
    sa.Column("table_meta_id", sa.Integer, primary_key=True),
    *(sa.Column(f"{end}_{a}", sa.Float, nullable=True) for end in ("min", "max") for a in "xyz"),
)
"""Per indexed table: the box (nm) holding every row's anchor; the row exists once the
table's rows stored before the index existed were queued."""

SYSTEM_COLUMNS = ("id", "created", "deleted", "superceded_id", "valid", "created_by", "deleted_by")
SAMPLE_COLUMN = indexes.SAMPLE_COLUMN  # engine/sampling.py: the level of the row's sample key


def now() -> datetime:
    """Current UTC time without tzinfo (stored naive, always UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def from_unix(seconds: float) -> datetime:
    """Unix seconds as a naive UTC datetime (as stamps are stored)."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def server_secret(engine: Engine, name: str) -> str:
    """The random key called ``name`` (64 hex digits), made on first need and kept."""
    q = sa.select(server_secrets.c.secret).where(server_secrets.c.name == name)
    with engine.connect() as conn:
        found = conn.execute(q).scalar()
    if found is not None:
        return str(found)
    with engine.connect().execution_options(anno_write=True) as conn, conn.begin():
        found = conn.execute(q).scalar()  # another process may have made it meanwhile
        if found is None:
            try:
                with conn.begin_nested():
                    made = secrets.token_hex(32)
                    conn.execute(
                        server_secrets.insert().values(name=name, secret=made, created=now())
                    )
                    found = made
            except sa.exc.IntegrityError:  # PostgreSQL: another process made it first
                found = conn.execute(q).scalar()
    return str(found)


_SQL_TYPES = {
    "float": sa.Float,
    "int": sa.BigInteger,
    "ref": sa.BigInteger,
    "user": sa.BigInteger,
    "bool": sa.Boolean,
    "str": sa.Text,
}


def annotation_table(meta_id: int, spec: SchemaSpec) -> sa.Table:
    """The SQL table holding the rows of annotation table ``meta_id`` (schema ``spec``)."""
    name = f"anno_{int(meta_id)}"
    md = sa.MetaData()
    cols = [
        # On SQLite an INTEGER primary key is the rowid itself: no second index to maintain
        # on every insert (a BIGINT one is a separate unique index). Still 64-bit.
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("deleted", sa.DateTime, nullable=True),
        sa.Column("superceded_id", sa.BigInteger, nullable=True),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("deleted_by", sa.String(100), nullable=True),
        # Set at insert from the id (never null after migration 'sample_and_view_indexes').
        indexes.sample_column(),
    ]
    for f in spec.data_fields:
        if f.kind == "point":
            cols.extend(sa.Column(c, sa.Float, nullable=True) for c in f.storage_columns)
        else:
            cols.append(
                sa.Column(f.column, _SQL_TYPES[f.kind], nullable=True, index=f.kind == "ref")
            )
    table = sa.Table(name, md, *cols)
    # Only superseded rows have a superceded_id: a partial index skips the NULLs of every
    # newly inserted row ("superceded_id = ?" still uses it, the condition implies NOT NULL).
    sa.Index(
        f"ix_{name}_superceded_id",
        table.c.superceded_id,
        sqlite_where=table.c.superceded_id.isnot(None),
        postgresql_where=table.c.superceded_id.isnot(None),
    )
    # No (created, deleted) index: it cost every insert a second key, and the one read it
    # served, a whole table's count at a moment, comes from the count log instead.
    indexes.view_indexes(table, spec)
    return table


def spatial_table(meta_id: int) -> sa.Table:
    """The spatial index of annotation table ``meta_id``: (key, id), ordered by key."""
    name = f"anno_{int(meta_id)}_spatial"
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("spatial_key", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
WRITE_LOCKS: dict[str, threading.RLock] = {}
"""One lock per database per process: this process's writers take turns on it (the database
serialises processes). Never removed, not even by `dispose`: a backend built before keeps
writing under it, and one built after shares it."""


def write_lock(url: str) -> threading.RLock:
    """The process-wide write lock of the database at ``url`` (made on first need)."""
    with _engines_lock:
        return WRITE_LOCKS.setdefault(url, threading.RLock())


def make_engine(url: str) -> Engine:
    """One engine per URL per process, with the catalogue created and dialect set-up done."""
    with _engines_lock:
        if url in _engines:
            return _engines[url]
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = dialect.engine_for(url)
        # Inside a writer's transaction: several processes may open a new database at once.
        with engine.connect().execution_options(anno_write=True) as conn, conn.begin():
            dialect.lock_schema(conn)
            metadata.create_all(conn)
            migrations.migrate(conn, now())
        _engines[url] = engine
        WRITE_LOCKS.setdefault(url, threading.RLock())
        return engine


def dispose(url: str) -> None:
    """Close every pooled connection of ``url``'s engine and forget it. A backend still
    holding the engine keeps working (it opens new connections when it needs them) and
    keeps its write lock, which stays shared with any backend built later for ``url``."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def lock_table_row(conn: sa.engine.Connection, meta_id: int) -> None:
    """Serialise writers of one annotation table across processes."""
    dialect.lock_table_row(conn, tables_meta, meta_id)


def bulk_insert(
    conn: sa.engine.Connection,
    table: sa.Table,
    data: dict[str, list],
    n: int,
    progress=None,
    batch: int = 100_000,  # type: ignore[no-untyped-def]
    constants: dict | None = None,
) -> None:
    """Insert ``n`` rows given as columns (plus ``constants`` shared by every row)."""
    dialect.bulk_insert(conn, table, data, n, progress, batch, constants=constants)
