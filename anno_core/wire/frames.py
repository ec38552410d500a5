"""The columnar frame encoding our server and our remote backend share (ours, not CAVE's).

A frame travels as ``{"n": rows, "columns": [...]}``. A numeric, boolean or datetime numpy
column goes as its raw little-endian bytes: no number is ever printed and parsed again.
Anything else (text, mixed values a user typed, nullable pandas columns) goes as a JSON list
(``"values"``) with its dtype, so the receiver rebuilds the same column and validation sees
exactly what the sender had. A position column holding only lists of three finite numbers
travels as its three ``_x/_y/_z`` columns, which validation reads the same way.

Inside JSON (answers of our server) raw bytes are base64 (``"b64"``). An upload request is
*packed*: ``ANF1``, the length of a JSON header (8 bytes, little-endian), the header, then the
columns' bytes, which the header points into (``"offset"``, ``"nbytes"``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from anno_core.errors import InvalidArgument

_NUMERIC = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
}
_DATETIME = re.compile(r"^datetime64\[(s|ms|us|ns)\]$")
_EXTENSION = {
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float32",
    "Float64",
    "boolean",
    "string",
}


def jsonable(value: Any) -> Any:
    """``json.dumps`` default: numpy and pandas values as plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    # Anything else a user put in a cell travels as its text: validation refuses it by
    # name (or ignores its unknown column) exactly as it would have refused the object.
    return str(value)


def dumps(content: Any) -> bytes:
    """JSON bytes of ``content`` (NaN kept as NaN: it is a value validation must see)."""
    return json.dumps(content, default=jsonable, separators=(",", ":")).encode("utf-8")


def _split_positions(frame: pd.DataFrame, name: str) -> list[tuple[str, np.ndarray]] | None:
    """The x, y, z columns of a position column, if every cell is 3 finite numbers."""
    targets = [f"{name}_{a}" for a in "xyz"]
    if any(t in frame.columns for t in targets) or len(frame) == 0:
        return None
    try:
        arr = np.array(frame[name].tolist())
    except (ValueError, TypeError):
        return None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.dtype.kind not in "iuf":
        return None
    # numpy turns True into 1 when it sits among numbers; validation must see the True.
    if any(isinstance(v, bool | np.bool_) for cell in frame[name] for v in cell):
        return None
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        return None
    return [(t, np.ascontiguousarray(arr[:, j])) for j, t in enumerate(targets)]


MAGIC = b"ANF1"
PACKED_TYPE = "application/vnd.anno-frame"


def _numeric(name: str, values: np.ndarray, blobs: list[bytes] | None) -> dict[str, Any]:
    arr = np.ascontiguousarray(values)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    raw = arr.tobytes()
    if blobs is None:
        return {"name": name, "dtype": str(arr.dtype), "b64": base64.b64encode(raw).decode("ascii")}
    offset = sum(len(b) for b in blobs)
    blobs.append(raw)
    return {"name": name, "dtype": str(arr.dtype), "offset": offset, "nbytes": len(raw)}


def pack(header: dict[str, Any], frame: pd.DataFrame) -> bytes:
    """An upload request: ``header`` plus ``frame`` (under "frame"), packed."""
    blobs: list[bytes] = []
    head = dumps({**header, "frame": encode_frame(frame, blobs)})
    return b"".join([MAGIC, len(head).to_bytes(8, "little"), head, *blobs])


def unpack(body: bytes) -> tuple[dict[str, Any], pd.DataFrame]:
    """The header and frame `pack` made; a malformed body is refused with a sentence."""
    if len(body) < 12 or body[:4] != MAGIC:
        raise InvalidArgument(f"A packed frame starts with {MAGIC!r} and its header length.")
    size = int.from_bytes(body[4:12], "little")
    if size > len(body) - 12:
        raise InvalidArgument("The packed frame is shorter than its header says.")
    try:
        header = json.loads(body[12 : 12 + size])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("The packed frame's header is not valid JSON.") from exc
    if not isinstance(header, dict):
        raise InvalidArgument("The packed frame's header must be a JSON object.")
    return header, decode_frame(header.get("frame"), memoryview(body)[12 + size :])


def encode_frame(frame: pd.DataFrame, blobs: list[bytes] | None = None) -> dict[str, Any]:
    """A frame as the columnar form described in the module docstring; numbers go into
    ``blobs`` when it is given (a packed request), else into base64 text."""
    cols: list[dict[str, Any]] = []
    for name in frame.columns:
        s = frame[name]
        key = str(name)
        dtype = str(s.dtype)
        if dtype in _NUMERIC or _DATETIME.match(dtype):
            cols.append(_numeric(key, s.to_numpy(), blobs))
        elif dtype in _EXTENSION:
            cols.append(
                {
                    "name": key,
                    "dtype": dtype,
                    "values": s.to_numpy(dtype=object, na_value=None).tolist(),
                }
            )
        else:
            split = _split_positions(frame, key) if key.endswith("_position") else None
            if split is not None:
                cols.extend(_numeric(n, v, blobs) for n, v in split)
                continue
            values = s.astype(object).tolist()
            cols.append(
                {
                    "name": key,
                    "dtype": "object",
                    "values": [None if v is pd.NA or v is pd.NaT else v for v in values],
                }
            )
    return {"n": len(frame), "columns": cols}


def decode_frame(payload: Any, blob: memoryview | None = None) -> pd.DataFrame:
    """The frame `encode_frame` sent (``blob``: the packed bytes its columns point into); a
    malformed payload is refused with a sentence."""
    if not isinstance(payload, dict) or not isinstance(payload.get("columns"), list):
        raise InvalidArgument(
            "The frame must be an object with 'n' (rows) and 'columns' (a list); send it as "
            "anno_core's remote backend does."
        )
    n = payload.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**63:
        raise InvalidArgument(f"The frame's 'n' must be a row count, not {n!r:.40}.")
    data: dict[str, Any] = {}
    for col in payload["columns"]:
        name, series = _decode_column(col, n, blob)
        if name in data:
            raise InvalidArgument(f"The frame has two columns called {name!r}; send one.")
        data[name] = series
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _raw(col: dict[str, Any], name: str, blob: memoryview | None) -> bytes | memoryview:
    if "b64" in col:
        try:
            return base64.b64decode(col["b64"], validate=True)
        except (ValueError, TypeError) as exc:
            raise InvalidArgument(f"Column {name!r} is not valid base64 data.") from exc
    offset, nbytes = col.get("offset"), col.get("nbytes")
    if (
        blob is None
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, nbytes)
        )
        or offset + nbytes > len(blob)
    ):
        raise InvalidArgument(f"Column {name!r} points outside the packed frame's data.")
    return blob[offset : offset + nbytes]


def _decode_column(col: Any, n: int, blob: memoryview | None) -> tuple[str, pd.Series]:
    if not isinstance(col, dict) or not isinstance(col.get("name"), str):
        raise InvalidArgument("Each frame column must be an object with a 'name'.")
    name, dtype = col["name"], col.get("dtype")
    if "b64" in col or "offset" in col:
        if dtype not in _NUMERIC and not (isinstance(dtype, str) and _DATETIME.match(dtype)):
            raise InvalidArgument(f"Column {name!r} has an unknown binary type {dtype!r}.")
        try:
            arr = np.frombuffer(_raw(col, name, blob), dtype=np.dtype(dtype).newbyteorder("<"))
        except ValueError as exc:
            raise InvalidArgument(f"Column {name!r} is not whole {dtype} values.") from exc
        if len(arr) != n:
            raise InvalidArgument(f"Column {name!r} has {len(arr)} values for {n} rows.")
        # A writable copy in native byte order (the packed body stays read-only).
        return name, pd.Series(arr.astype(arr.dtype.newbyteorder("=")), copy=False)
    values = col.get("values")
    if not isinstance(values, list) or len(values) != n:
        raise InvalidArgument(f"Column {name!r} must be a list of {n} values.")
    if dtype == "object":
        return name, pd.Series(values, dtype=object)
    if dtype in _EXTENSION:
        try:
            return name, pd.Series(pd.array(values, dtype=dtype))
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidArgument(f"Column {name!r} does not hold {dtype} values.") from exc
    raise InvalidArgument(f"Column {name!r} has an unknown type {dtype!r}.")
