"""Upload keys: an upload stored at most once, and a key never reused for other content.

A write carrying an upload key records, in the same transaction, the key, its table, when,
what it returned and a digest of what it was given. The same key again with the same content
returns the stored answer and writes nothing (a retry, a double click); the same key with
other content is refused (`Conflict`, 409 over HTTP) naming the key and when it was used, so
a reused key ("daily") can never silently store nothing. Keys recorded before digests were
kept (``digest`` is NULL) still answer as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db
from anno_core.errors import Conflict


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a frame's columns and values (not its index or line numbers)."""
    h = hashlib.sha256(b"frame-1\x00")
    for name in frame.columns:
        col = frame[name]
        h.update(f"{name}\x00{col.dtype}\x00".encode("utf-8", "surrogatepass"))
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biufmM":
            h.update(np.ascontiguousarray(col.to_numpy()).tobytes())  # raw numbers: fastest
            continue
        try:
            rows = pd.util.hash_pandas_object(col, index=False).to_numpy()
            h.update(np.ascontiguousarray(rows).tobytes())
        except (TypeError, ValueError, OverflowError):  # lists, 10**400, broken text: as text
            for v in col.tolist():
                h.update(repr(v).encode("utf-8", "surrogatepass") + b"\x1f")
    return h.hexdigest()


def records_digest(records: Sequence[Any]) -> str:
    """A digest of records as given (JSON, keys sorted; other values by their text)."""
    raw = json.dumps(list(records), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(b"records-1\x00" + raw.encode("utf-8", "surrogatepass")).hexdigest()


def key_reused(key: str, used: datetime | None) -> Conflict:
    """The refusal of a key sent again with other content (``key`` as its sender named it)."""
    when = f"on {used:%Y-%m-%d at %H:%M:%S} UTC" if used is not None else "before"
    return Conflict(
        f"The upload key {key!r} was used {when} for other content, so nothing was stored; "
        "use a new key for new content (the same key only repeats the same upload).",
        upload_key=key,
        used=used,
    )


def stored_result(
    conn: Connection, key: str, table_meta_id: int | None, digest: str | None = None
) -> Any | None:
    """What the upload with ``key`` stored (ids, or {old: new} with text keys), or None.
    With ``table_meta_id``, a key that belongs to another table is refused; with
    ``digest``, a key that stored other content is refused."""
    row = conn.execute(
        sa.select(
            db.upload_keys.c.result,
            db.upload_keys.c.table_meta_id,
            db.upload_keys.c.digest,
            db.upload_keys.c.created,
        ).where(db.upload_keys.c.key == key)
    ).first()
    if row is None:
        return None
    if table_meta_id is not None and int(row[1]) != int(table_meta_id):
        raise Conflict(
            f"The upload key {key!r} belongs to an upload into another table; use a new "
            "key for this one."
        )
    if digest is not None and row[2] is not None and row[2] != digest:
        raise key_reused(key, row[3])
    return json.loads(row[0])


def record(
    conn: Connection,
    key: str,
    table_meta_id: int,
    stamp: datetime,
    result: Any,
    digest: str | None,
    user_id: str,
) -> None:
    """Remember, in the write's own transaction, what the upload with ``key`` stored, and
    who stored it."""
    conn.execute(
        db.upload_keys.insert().values(
            key=key,
            table_meta_id=table_meta_id,
            created=stamp,
            result=json.dumps(result),
            digest=digest,
            user_id=user_id,
        )
    )
