"""The embedded engine's repairs: deleting every row a filter matches, restoring deleted rows,
and saying why each version of an annotation was made or deleted.

A delete by filter never brings rows into Python beyond their ids, a batch at a time, and
runs in one transaction (all or nothing); it refuses when the count the person confirmed is
no longer the count that matches. A restore stores new versions carrying the deleted values
(`store.RowStore._store` with ``restore``); the deleted rows keep their deletion stamp and
point at their new version. The reasons come from the audit log: each change stamps its rows
and its audit entry with the same time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from anno_core.arguments import update_ids
from anno_core.engine import counts, db
from anno_core.engine.audit import IdRuns, compact
from anno_core.engine.store import check_restorable
from anno_core.engine.uploads import runs
from anno_core.errors import Conflict, InvalidArgument
from anno_core.validation.validator import validate_frame

BATCH = 10_000  # ids updated per statement of a delete by filter


class Repairs:
    """Deletes by filter, restores and the reasons of versions (mixed into the backend)."""

    # Provided by the backend this is mixed into.
    engine: Any
    user: Any
    meta: Any
    require: Any
    table_of: Any
    audit: Any
    write_conn: Any
    _write_lock: Any
    _where: Any
    _fetch: Any
    _store: Any

    def delete_matching(
        self,
        volume: str,
        table: str,
        *,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        expected: int | None = None,
    ) -> int:
        """Mark deleted every live row the filters (and ids) match, in one transaction; the
        number deleted. ``expected``: the count the person confirmed (refused if it moved)."""
        if not filters and not ids:
            raise InvalidArgument(
                "Give a filter or ids: deleting every row of a table at once is not offered."
            )
        meta = self.meta(volume, table)
        self.require("write", meta)
        t, _ = self.table_of(meta)
        with self._write_lock, self.write_conn() as conn, conn.begin():
            db.lock_table_row(conn, meta["id"])
            count_q = self._where(
                sa.select(sa.func.count()).select_from(t), t, table, False, filters, ids
            )
            count = int(conn.execute(count_q).scalar())
            if expected is not None and int(expected) != count:
                raise Conflict(
                    f"{count:,} rows match now, not {int(expected):,}: the table changed "
                    "since you looked. Look at the rows again and confirm the new count."
                )
            stamp = db.now()
            done: list[tuple[int, int]] = []
            last = 0
            while True:  # keyset batches: never more than BATCH ids in memory at once
                q = self._where(sa.select(t.c.id), t, table, False, filters, ids)
                q = q.where(t.c.id > last).order_by(t.c.id).limit(BATCH)
                part = [int(i) for i in conn.execute(q).scalars()]
                if not part:
                    break
                conn.execute(
                    t.update()
                    .where(t.c.id.in_(part), t.c.valid)
                    .values(deleted=stamp, valid=False, deleted_by=str(self.user.id))
                )
                done.extend(runs(part))
                last = part[-1]
            total = sum(b - a + 1 for a, b in done)
            if total:
                counts.bump(conn, meta["id"], live=-total, total=0, stamp=stamp)
            detail = {
                "reason": "filter",
                "filters": filters or {},
                "ids": compact(list(ids)) if ids else None,
            }
            self.audit(conn, "delete_annotation", volume, table, IdRuns(done), detail, at=stamp)
        return total

    def restore_annotation(self, volume: str, table: str, ids: Sequence[int]) -> dict[int, int]:
        """New versions of deleted annotations carrying their values; ``{old id: new id}``."""
        old_ids = update_ids([{"id": i} for i in ids])
        if not old_ids:
            return {}
        meta = self.meta(volume, table)
        self.require("write", meta)
        t, spec = self.table_of(meta)
        with self.engine.connect() as conn:
            rows = {int(r["id"]): r for r in self._fetch(conn, t, old_ids)}
        check_restorable(table, old_ids, rows)
        frame = pd.DataFrame(
            {
                c: pd.Series([rows[i][c] for i in old_ids], dtype=object)
                for f in spec.data_fields
                if f.kind != "user"
                for c in f.storage_columns
            }
        )
        checked = validate_frame(spec, frame, line_label="annotation")
        checked.report.raise_if_failed()
        new = self._store(volume, table, checked, len(frame), replace=old_ids, restore=True)
        return dict(zip(old_ids, new, strict=True))

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        """Every version (oldest first), each with why it was made and why deleted: the
        action and detail of the audit entry stamped when it was (None if not known)."""
        out = super().history(volume, table, annotation_id)  # type: ignore[misc]
        stamps = {s for v in out for s in (v.get("created"), v.get("deleted")) if s}
        if not stamps:
            return out
        log = db.audit_log
        q = sa.select(log.c.at, log.c.action, log.c.detail).where(
            log.c.aligned_volume == volume,
            log.c.table_name == table,
            log.c.at.in_([datetime.fromisoformat(s) for s in stamps]),
        )
        with self.engine.connect() as conn:
            why = {
                db.iso(at): {"action": action, "detail": json.loads(detail) if detail else None}
                for at, action, detail in conn.execute(q)
            }
        for v in out:
            v["created_why"] = why.get(v.get("created"))
            v["deleted_why"] = why.get(v.get("deleted")) if v.get("deleted") else None
        return out
