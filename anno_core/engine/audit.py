"""The embedded engine's append-only audit log: who changed what, when, which ids.

Ids are kept as compact [first, last] runs, so an entry about a million-row upload stays a
few bytes. An entry is written inside the transaction of the change it records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db
from anno_core.engine.activity import ActivityLog


class IdRuns(list):
    """Ids given as sorted, non-overlapping [first, last] runs (a big delete's ids, which
    are never expanded one by one)."""


def compact_ids(ids: Iterable[int]) -> str:
    """Ids as a compact JSON list of [first, last] runs (an audit entry stays small)."""
    if isinstance(ids, IdRuns):
        merged: list[list[int]] = []
        for a, b in ids:
            if merged and a == merged[-1][1] + 1:
                merged[-1][1] = int(b)
            else:
                merged.append([int(a), int(b)])
        return json.dumps(merged)
    arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
    if arr.size > 1 and not (np.diff(arr) > 0).all():  # new ids come sorted: no sort then
        arr = np.unique(arr)
    if arr.size == 0:
        return "[]"
    breaks = np.flatnonzero(np.diff(arr) != 1)
    starts = np.concatenate(([arr[0]], arr[breaks + 1]))
    ends = np.concatenate((arr[breaks], [arr[-1]]))
    return json.dumps([[int(a), int(b)] for a, b in zip(starts, ends, strict=True)])


def expand_ids(text: str | None) -> list[int]:
    """The ids of a `compact_ids` text, every one."""
    if not text:
        return []
    return [i for a, b in json.loads(text) for i in range(a, b + 1)]


def compact(ids: list[int] | None) -> Any:
    """`compact_ids` as a JSON value (for an entry's detail), None for None."""
    return None if ids is None else json.loads(compact_ids(ids))


class Audit(ActivityLog):
    """Writing and reading the audit log (mixed into the embedded backend); its pages for
    people are `ActivityLog.activity`."""

    # Provided by the backend this is mixed into.
    engine: Any
    user: Any

    def audit(
        self,
        conn: Connection,
        action: str,
        volume: str,
        table: str | None,
        ids: Iterable[int] | None,
        detail: Any,
        at: datetime | None = None,
    ) -> None:
        """Append one entry, in the caller's transaction (at ``at``: the stamp the change
        put on its rows, so a row's version can be matched with its entry)."""
        conn.execute(
            db.audit_log.insert().values(
                at=at or db.now(),
                user_id=str(self.user.id),
                action=action,
                aligned_volume=volume,
                table_name=table,
                ids=None if ids is None else compact_ids(ids),
                detail=None if detail is None else json.dumps(detail, default=str),
            )
        )

    def audit_entries(self, volume: str | None = None, table: str | None = None) -> list[dict]:
        """Every entry (of one volume, of one table), oldest first, ids expanded."""
        q = sa.select(db.audit_log).order_by(db.audit_log.c.id)
        if volume is not None:
            q = q.where(db.audit_log.c.aligned_volume == volume)
        if table is not None:
            q = q.where(db.audit_log.c.table_name == table)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        for r in rows:
            r["at"] = db.iso(r["at"])
            r["ids"] = expand_ids(r["ids"])
            r["detail"] = json.loads(r["detail"]) if r["detail"] else None
        return rows
