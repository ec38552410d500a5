"""Every difference between databases, in one small module.

SQLite: WAL, a busy timeout, BEGIN IMMEDIATE for writers (so a write transaction holds the
lock from its first statement), DBAPI executemany of tuples for bulk inserts.
PostgreSQL: a row lock on the table's metadata row serialises writers of one table, and
bulk inserts stream through COPY. Identifiers in COPY come from our own schema catalogue
and numeric table ids (never from user text) and are quoted by the dialect.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core.common import Progress


def engine_for(url: str) -> Engine:
    """A configured engine for ``url``."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_setup(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_setup(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=60000")  # first: switching to WAL may have to wait
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Readers take no lock (WAL lets them read while a writer works).
        write = conn.get_execution_options().get("anno_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


SCHEMA_LOCK_KEY = 0x616E6E6F  # "anno": the advisory lock of layout changes


def lock_schema(conn: Connection) -> None:
    """Let one process at a time create or migrate the layout (inside its transaction)."""
    if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def lock_table_row(conn: Connection, meta_table: sa.Table, meta_id: int) -> None:
    """Serialise writers of one annotation table across processes."""
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already holds the lock
        conn.execute(sa.select(meta_table.c.id).where(meta_table.c.id == meta_id).with_for_update())


def lock_volume_tables(conn: Connection, meta_table: sa.Table, volume_id: int) -> None:
    """Wait for every writer of a volume's tables to commit, and keep new ones out until
    this transaction ends (a version taken now must not see a write land in its past)."""
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already holds the lock
        conn.execute(
            sa.select(meta_table.c.id)
            .where(meta_table.c.aligned_volume_id == volume_id)
            .with_for_update()
        )


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    data: dict[str, list],
    n: int,
    progress: Progress | None = None,
    batch: int = 100_000,
    constants: dict[str, Any] | None = None,
) -> None:
    """Insert ``n`` rows given as columns, in batches, inside the caller's transaction.

    ``constants`` are values shared by every row (created, valid, ...): SQLite gets them as
    literals in the statement (binding them per row cost a third of the insert time)."""
    constants = constants or {}
    if conn.dialect.name == "postgresql":
        names = [c.name for c in table.columns if c.name in data or c.name in constants]
        _copy(conn, table, names, data, constants, n, progress, batch)
        return
    data = {k: column_values(v) for k, v in data.items()}
    if conn.dialect.name != "sqlite" and constants:
        data = {**data, **{k: [v] * n for k, v in constants.items()}}
        constants = {}
    names = [c.name for c in table.columns if c.name in data]
    if conn.dialect.name == "sqlite":
        fixed = {
            k: sa.literal_column(
                str(
                    sa.literal(v, type_=table.c[k].type).compile(
                        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
                    )
                )
            )
            for k, v in constants.items()
        }
        stmt = table.insert().values({**{c: sa.bindparam(c) for c in names}, **fixed})
        compiled = stmt.compile(dialect=conn.dialect)
        cols = [data[name] for name in compiled.positiontup]
        cursor = conn.connection.cursor()
        try:
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                cursor.executemany(str(compiled), zip(*(c[start:stop] for c in cols), strict=True))
                if progress:
                    progress(stop, n)
        finally:
            cursor.close()
        return
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        rows = [
            dict(zip(names, vals, strict=True))
            for vals in zip(*(data[k][start:stop] for k in names), strict=True)
        ]
        conn.execute(table.insert(), rows)
        if progress:
            progress(stop, n)


def set_by_id(conn: Connection, table: sa.Table, column: str, ids: list[int], values: Any) -> None:
    """Set ``column`` of the rows ``ids`` to ``values`` (one each), in one statement per
    batch: PostgreSQL joins two arrays, SQLite runs one prepared update per row."""
    vals = column_values(values)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        kind = table.c[column].type
        given = sa.select(
            sa.func.unnest(sa.cast(sa.bindparam("ids"), ARRAY(sa.BigInteger))).label("id"),
            sa.func.unnest(sa.cast(sa.bindparam("vals"), ARRAY(kind))).label("value"),
        ).subquery()
        conn.execute(
            table.update().where(table.c.id == given.c.id).values({column: given.c.value}),
            {"ids": [int(i) for i in ids], "vals": vals},
        )
        return
    conn.execute(
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values({column: sa.bindparam("v")}),
        [{"row_id": int(i), "v": v} for i, v in zip(ids, vals, strict=True)],
    )


def column_values(values: Any) -> list:
    """A numpy/pandas column as a Python list with None for every blank (for the driver)."""
    if isinstance(values, list):
        return values
    if isinstance(values, pd.api.extensions.ExtensionArray | pd.Series):
        return values.to_numpy(dtype=object, na_value=None).tolist()
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        if nan.any():
            return np.where(nan, None, arr.astype(object)).tolist()
    return arr.tolist()


class _Stream(io.RawIOBase):
    """A file that COPY reads from, producing the next chunk only when asked: PostgreSQL
    parses one chunk while the client writes the next, so the two overlap."""

    def __init__(self, chunks: Any) -> None:
        self._chunks = chunks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not len(self._buf):
            nxt = next(self._chunks, None)
            if nxt is None:
                return b""
            self._buf = memoryview(nxt)
        if size is None or size < 0:
            size = len(self._buf)
        # A view, not bytes: slicing bytes copied the rest of the chunk on every read (the
        # driver reads a few KB at a time), quadratic in the chunk's size.
        out, self._buf = self._buf[:size], self._buf[size:]
        return out.tobytes()


def _copy(
    conn: Connection,
    table: sa.Table,
    names: list[str],
    data: dict[str, Any],
    constants: dict[str, Any],
    n: int,
    progress: Progress | None,
    batch: int,
) -> None:
    """One streaming COPY, batch by batch: binary (`pgcopy`: numpy writes the rows) when
    every value has a fixed width and none is blank, else CSV written by Arrow (C++): text
    always quoted, null an unquoted empty field, so an empty text stays empty and a blank
    stays NULL."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from anno_core.engine import pgcopy

    prep = conn.dialect.identifier_preparer
    target = f"{prep.quote(table.name)} ({', '.join(prep.quote(c) for c in names)})"
    fixed = pgcopy.prepare(table, names, data, constants)
    if fixed is not None:
        step = min(batch, 50_000)

        def binary() -> Any:
            yield pgcopy.HEADER
            for start in range(0, n, step):
                if progress and start:
                    progress(start, n)  # the rows before this batch have been sent
                yield pgcopy.rows(fixed, start, min(n, start + step))
            yield pgcopy.TRAILER

        cursor = conn.connection.cursor()
        try:
            cursor.copy_expert(
                f"COPY {target} FROM STDIN WITH (FORMAT binary)", _Stream(binary()), size=1 << 20
            )
        finally:
            cursor.close()
        if progress:
            progress(n, n)
        return
    sql = f"COPY {target} FROM STDIN WITH (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")

    def chunks() -> Any:
        step = min(batch, 50_000)
        for start in range(0, n, step):
            stop = min(n, start + step)
            arrays = [
                pa.repeat(constants[c], stop - start)
                if c in constants
                else pa.array(data[c][start:stop], from_pandas=True)
                for c in names
            ]
            sink = pa.BufferOutputStream()
            pacsv.write_csv(pa.Table.from_arrays(arrays, names=names), sink, options)
            if progress and start:
                progress(start, n)  # the rows before this batch have been sent
            yield sink.getvalue().to_pybytes()

    cursor = conn.connection.cursor()
    try:
        cursor.copy_expert(sql, _Stream(chunks()), size=1 << 20)
    finally:
        cursor.close()
    if progress:
        progress(n, n)


def bin_index(conn: Connection, value: Any, low: float, width: float) -> Any:
    """The SQL expression of ``floor((value - low) / width)`` for values >= low: SQLite's
    CAST truncates (a floor for these), PostgreSQL's rounds, so there FLOOR comes first."""
    scaled = (value - low) / width
    if conn.dialect.name == "postgresql":
        scaled = sa.func.floor(scaled)
    return sa.cast(scaled, sa.Integer)


def insert_pairs(conn: Connection, table: sa.Table, rows: list[tuple[int, int]]) -> None:
    """Insert (first column, second column) pairs, skipping pairs already stored (a key of
    the spatial index may be queued twice)."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        stmt = insert(table).on_conflict_do_nothing().compile(dialect=conn.dialect)
        cursor = conn.connection.cursor()
        try:  # plain executemany of tuples: a million pairs in well under a second
            cursor.executemany(str(stmt), rows)
        finally:
            cursor.close()
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    conn.execute(
        pg_insert(table).on_conflict_do_nothing(),
        [dict(zip(names, r, strict=True)) for r in rows],
    )


def read_frame(conn: Connection, stmt: Any) -> pd.DataFrame:
    """The rows of a SELECT as a DataFrame, fetched by the driver as plain tuples (no
    SQLAlchemy row objects: several times faster for hundreds of thousands of rows)."""
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.params
    if compiled.positiontup is not None:  # SQLite's qmark style
        args: Any = [params[name] for name in compiled.positiontup]
    else:
        args = params
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
