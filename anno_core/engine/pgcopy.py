"""PostgreSQL's binary COPY format, written by numpy for rows of fixed width.

A binary COPY row is a 16-bit field count, then per field a 32-bit length and the value in
network byte order. When every value of a batch has a fixed width and none is blank (ids,
numbers, sample levels, booleans, times: a synapse upload), every row has the same layout,
so a numpy structured array *is* the batch, filled column by column at memory speed: no
number is printed and parsed again, which is most of what a text COPY costs on both sides.
A text the same in every row (who created them) is fixed-width too. Columns with other
text, or with a blank, make `prepare` return None (the caller sends text COPY).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")  # PostgreSQL's timestamp zero


def wire_type(column: sa.Column) -> str | None:
    """The big-endian numpy type of a column's binary value, None if not fixed-width."""
    t = column.type
    t = getattr(t, "impl", t) if isinstance(t, sa.types.Variant) else t
    if isinstance(t, sa.SmallInteger):
        return ">i2"
    if isinstance(t, sa.BigInteger):
        return ">i8"
    if isinstance(t, sa.Integer):
        return ">i4"
    if isinstance(t, sa.Float):
        return ">f8"
    if isinstance(t, sa.Boolean):
        return "?"
    if isinstance(t, sa.DateTime):
        return ">i8"  # microseconds since 2000-01-01
    return None


def _fixed(values: Any, wire: str) -> np.ndarray | None:
    """``values`` as a numpy array ready to cast to ``wire``; None if any is blank or the
    values are not plain numbers (object columns, nullable pandas arrays with a blank)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.api.extensions.ExtensionArray):
        if values.isna().any():
            return None
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return (
            None if np.isnat(arr).any() else (arr.astype("datetime64[us]") - _EPOCH).view(np.int64)
        )
    if arr.dtype.kind not in "biuf":
        return None
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            return None
        if wire != ">f8" and not np.all(np.mod(arr, 1) == 0):
            return None
    return arr


Prepared = list[tuple[str, Any]]
"""Per column: its wire type and its values (a numpy array, or one value for every row)."""


def prepare(
    table: sa.Table, names: list[str], data: dict[str, Any], constants: dict[str, Any]
) -> Prepared | None:
    """The columns ``names`` ready for `rows`, or None when one is not fixed-width or has
    a blank (then the rows go as text)."""
    out: Prepared = []
    for c in names:
        wire = wire_type(table.c[c])
        if c in constants and isinstance(constants[c], str):  # the same text in every row
            raw = constants[c].encode("utf-8")
            out.append((f"S{len(raw)}", np.bytes_(raw)) if raw else (">i4", None))
            continue
        if wire is None:
            return None
        if c in constants:
            value = constants[c]
            if value is None:
                return None
            if isinstance(value, datetime):
                value = (np.datetime64(value, "us") - _EPOCH).astype(np.int64)
            out.append((wire, value))
            continue
        values = _fixed(data[c], wire)
        if values is None:
            return None
        out.append((wire, values))
    return out


def rows(prepared: Prepared, start: int, stop: int) -> bytes:
    """Rows ``start:stop`` in binary COPY format (without the header and trailer)."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, (wire, values) in enumerate(prepared):
        fields.append((f"len{i}", ">i4"))
        if values is not None:  # None: an empty text, its length 0 and no bytes
            fields.append((f"val{i}", wire))
    out = np.empty(stop - start, dtype=np.dtype(fields))
    out["count"] = len(prepared)
    for i, (wire, values) in enumerate(prepared):
        if values is None:
            out[f"len{i}"] = 0
            continue
        out[f"len{i}"] = np.dtype(wire).itemsize
        out[f"val{i}"] = values[start:stop] if isinstance(values, np.ndarray) else values
    return out.tobytes()
