"""Reading rows as columns: a frame built without a Python object per row where the driver
allows it (PostgreSQL), and in chunks straight into columns where it does not (SQLite).

PostgreSQL sends the rows as CSV through ``COPY (query) TO STDOUT``, which Arrow parses in
C++; PostgreSQL prints every float8 so that it reads back exactly, and tells a NULL (an
unquoted empty field) from an empty text (""). sqlite3 can only hand over rows: they are
taken 10,000 at a time and turned into columns at once.

A column's kind says what it becomes: "int" (int64, never blank: ids), "float" (float64,
NaN for a blank), "Int64" (pandas' nullable integers), "boolean" (nullable), "text".
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_DTYPES = {"int": "int64", "float": "float64", "Int64": "Int64", "boolean": "boolean"}


def kind_of(column: sa.Column) -> str:
    """The kind a stored column is read as."""
    t = column.type
    t = getattr(t, "impl", t) if isinstance(t, sa.types.Variant) else t
    if isinstance(t, sa.Float):
        return "float"
    if isinstance(t, sa.Integer):
        return "Int64"
    if isinstance(t, sa.Boolean):
        return "boolean"
    return "text"


def _column(values: list[Any], kind: str) -> Any:
    if kind == "int":
        return np.fromiter(values, np.int64, len(values))
    if kind == "float":
        return np.array(values, dtype=np.float64)  # None becomes NaN
    if kind == "text":
        return np.array(values, dtype=object)
    return pd.array(values, dtype=_DTYPES[kind])


def _empty(kind: str) -> Any:
    return np.empty(0, dtype=object) if kind == "text" else pd.array([], dtype=_DTYPES[kind])


def fetch_columns(conn: Connection, query: Any, kinds: dict[str, str]) -> pd.DataFrame:
    """The rows of ``query`` (selecting the columns ``kinds`` names, in that order) as a
    frame of those columns."""
    names = list(kinds)
    if conn.dialect.name == "postgresql":
        return _copy_out(conn, query, kinds)
    parts: dict[str, list[Any]] = {n: [] for n in names}
    result = conn.execute(query)
    while rows := result.fetchmany(10_000):
        for i, n in enumerate(names):
            parts[n].append(_column([r[i] for r in rows], kinds[n]))
    out = {}
    for n in names:
        if not parts[n]:
            out[n] = _empty(kinds[n])
        elif kinds[n] in ("int", "float", "text"):
            out[n] = np.concatenate(parts[n])
        else:
            out[n] = pd.array(
                np.concatenate([p.to_numpy(object) for p in parts[n]]), _DTYPES[kinds[n]]
            )
    return pd.DataFrame(out)


def _copy_out(conn: Connection, query: Any, kinds: dict[str, str]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = list(kinds)
    compiled = query.compile(dialect=conn.dialect)
    cursor = conn.connection.cursor()
    try:  # the driver quotes the parameters into the text COPY needs (COPY binds none)
        sql = cursor.mogrify(str(compiled), compiled.params).decode()
        sink = io.BytesIO()
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", sink)
    finally:
        cursor.close()
    if not sink.getvalue():
        return pd.DataFrame({n: _empty(kinds[n]) for n in names})
    arrow = {"int": pa.int64(), "float": pa.float64(), "Int64": pa.int64(), "boolean": pa.bool_()}
    got = pacsv.read_csv(
        io.BytesIO(sink.getvalue()),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types={n: arrow.get(k, pa.string()) for n, k in kinds.items()},
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,  # an unquoted empty field is NULL...
            quoted_strings_can_be_null=False,  # ...and "" an empty text
        ),
    )
    out = {}
    for n in names:
        col = got.column(n)
        if kinds[n] in ("int", "float"):
            out[n] = col.to_numpy(zero_copy_only=False)
        elif kinds[n] == "text":
            out[n] = np.array(col.to_pylist(), dtype=object)
        else:
            out[n] = pd.array(col.to_pylist(), dtype=_DTYPES[kinds[n]])
    return pd.DataFrame(out)
