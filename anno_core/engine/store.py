"""The embedded engine, part 3: one write transaction that stores validated rows.

`RowStore._store` is every insert and update: under the database's writer lock it checks
the upload key, the rows an update replaces and the reference targets, assigns ids after
the current maximum (or the caller's own), inserts in bulk, supersedes old rows, follows
tracking reference tables and writes the audit entry and the upload key, all at once.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.common import Progress
from anno_core.engine import counts, db, spatial_index
from anno_core.engine.audit import compact
from anno_core.engine.reads import chunks
from anno_core.engine.sampling import sample_level
from anno_core.engine.tables import LocalTables
from anno_core.engine.upload_keys import record, stored_result
from anno_core.errors import (
    AlreadySuperseded,
    AnnotationNotFound,
    Conflict,
    InvalidArgument,
    ValidationFailed,
)
from anno_core.ids import INT64_MAX, MAX_GIVEN_ID
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import Validated, ValidationReport


class RowStore(LocalTables):
    """The write transaction of the embedded engine (LocalBackend's public writes use it)."""

    _write_lock: threading.RLock  # this database's process-wide writer lock (db.write_lock)

    url: str

    def _old_rows(self, volume: str, table: str, old_ids: list[int]) -> dict[int, dict]:
        meta = self.meta(volume, table)
        t, _ = self.table_of(meta)
        with self.engine.connect() as conn:
            rows = {int(r["id"]): r for r in self._fetch(conn, t, old_ids)}
        _check_replaceable(table, old_ids, rows)
        return rows

    def _store(
        self,
        volume: str,
        table: str,
        checked: Validated,
        n: int,
        *,
        replace: list[int] | None = None,
        progress: Progress | None = None,
        upload_key: str | None = None,
        digest: str | None = None,
        restore: bool = False,
    ) -> list[int]:
        """Store checked rows in one transaction; with ``replace``, as new versions of those
        rows (``restore``: of deleted rows, which keep their deletion stamp)."""
        with self._write_lock, self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("write", meta)
            db.lock_table_row(conn, meta["id"])
            # One instant for the whole change, taken once the lock is held: the new rows'
            # ``created``, the old rows' ``deleted`` (so time travel never sees both or
            # neither), the rows tracking tables add and the audit entry all carry it.
            stamp = db.now()
            t, spec = self.table_of(meta)
            if upload_key is not None:  # re-checked inside the lock: a twin may have won
                stored = stored_result(conn, upload_key, meta["id"], digest)
                if stored is not None:
                    return list(stored.values()) if isinstance(stored, dict) else stored
            revived = 0  # replaced rows that were not live (deleted): their new versions are
            if replace is not None:  # re-check inside the lock: another writer may have won
                rows = {int(r["id"]): r for r in self._fetch(conn, t, replace)}
                (check_restorable if restore else _check_replaceable)(table, replace, rows)
                revived = sum(1 for r in rows.values() if not r["valid"])
            self._check_targets(conn, volume, meta, spec, checked)
            user_ids = None if replace is not None else checked.ids
            ids = self._assign_ids(conn, t, table, user_ids, n, checked)
            cols = dict(checked.columns)
            if any(f.kind == "user" for f in spec.data_fields):
                for f in spec.data_fields:
                    if f.kind == "user":
                        cols[f.column] = np.full(n, self.user.id, dtype=np.int64)
            self._insert(conn, t, ids, cols, progress, stamp)
            if spec.point_fields:  # indexed for Neuroglancer when someone opens it there
                spatial_index.queue(conn, meta["id"], ids)
            live = n if replace is None else revived
            counts.bump(conn, meta["id"], live=live, total=n, stamp=stamp)
            if restore:
                conn.execute(  # the deleted rows keep when and by whom they were deleted
                    t.update()
                    .where(t.c.id == sa.bindparam("old_id"))
                    .values(superceded_id=sa.bindparam("new_id")),
                    [{"old_id": o, "new_id": int(nw)} for o, nw in zip(replace, ids, strict=True)],
                )
            elif replace is not None:
                # A replaced row deleted before keeps when and by whom (as a restore does):
                # restamping it would make it live again, at past moments, until now.
                conn.execute(
                    t.update()
                    .where(t.c.id == sa.bindparam("old_id"))
                    .values(
                        deleted=sa.func.coalesce(t.c.deleted, stamp),
                        valid=False,
                        superceded_id=sa.bindparam("new_id"),
                        deleted_by=sa.func.coalesce(t.c.deleted_by, str(self.user.id)),
                    ),
                    [{"old_id": o, "new_id": int(nw)} for o, nw in zip(replace, ids, strict=True)],
                )
            if replace is not None:
                self._follow_targets(
                    conn, volume, table, dict(zip(replace, ids.tolist(), strict=True)), stamp
                )
            action, detail = "post_annotation", None
            if replace is not None:
                action = "restore_annotation" if restore else "update_annotation"
                detail = {"restored" if restore else "replaced": compact(replace)}
            self.audit(conn, action, volume, table, ids.tolist(), detail, at=stamp)
            if upload_key is not None:
                result = (
                    dict(zip(map(str, replace), ids.tolist(), strict=True))
                    if replace is not None
                    else ids.tolist()
                )
                record(conn, upload_key, meta["id"], stamp, result, digest, str(self.user.id))
        return ids.tolist()

    def _insert(
        self,
        conn: Connection,
        t: sa.Table,
        ids: np.ndarray,
        cols: dict[str, Any],
        progress: Progress | None,
        stamp: datetime,
    ) -> None:
        n = len(ids)
        # Values shared by every row go as constants (bound once, not per row), and the
        # columns always empty on insert (deleted, superceded_id, deleted_by) are left to
        # their default: binding them per row cost a third of a million-row insert.
        constants = {"created": stamp, "valid": True, "created_by": str(self.user.id)}
        data: dict[str, Any] = {"id": ids, db.SAMPLE_COLUMN: sample_level(ids)}
        for name, values in cols.items():
            if name in t.c:
                data[name] = values  # the dialect converts columns to what its driver wants
        db.bulk_insert(conn, t, data, n, progress, constants=constants)

    def _assign_ids(
        self,
        conn: Connection,
        t: sa.Table,
        table: str,
        user_ids: pd.Series | None,
        n: int,
        checked: Validated,
    ) -> np.ndarray:
        if user_ids is None or not user_ids.notna().any():
            start = first_free_id(conn, t, table, n)
            return np.arange(start, start + n, dtype=np.int64)
        given = user_ids.notna().to_numpy()
        wanted = user_ids[given].astype(np.int64).to_numpy()
        taken: set[int] = set()
        for part in chunks(wanted.tolist()):
            taken.update(
                int(i) for i in conn.execute(sa.select(t.c.id).where(t.c.id.in_(part))).scalars()
            )
        if taken:
            rep = ValidationReport(rows=n)
            s = pd.Series(user_ids.astype(object))
            mask = s.isin(taken).to_numpy() & given
            rep.add(
                "id_exists",
                "id",
                mask,
                s,
                f"an annotation with this id already exists in table '{table}'; "
                "leave the id empty to get a new one, or update it instead",
                checked.lines if checked.lines is not None else np.arange(1, n + 1),
            )
            raise ValidationFailed(rep.describe(), report=rep)
        ids = np.empty(n, dtype=np.int64)
        ids[given] = wanted
        rest = int((~given).sum())
        start = first_free_id(conn, t, table, rest, above=int(wanted.max()))
        ids[~given] = np.arange(start, start + rest, dtype=np.int64)
        return ids

    def _check_targets(
        self, conn: Connection, volume: str, meta: dict, spec: SchemaSpec, checked: Validated
    ) -> None:
        if not spec.is_reference or "target_id" not in checked.columns:
            return
        ref_meta = self._meta_row(conn, volume, meta["reference_table"], include_deleted=True)
        rt, _ = self.table_of(ref_meta)
        targets = pd.Series(checked.columns["target_id"]).astype(object)
        wanted = sorted({int(v) for v in targets.dropna()})
        found: set[int] = set()
        for part in chunks(wanted):
            found.update(
                int(i) for i in conn.execute(sa.select(rt.c.id).where(rt.c.id.in_(part))).scalars()
            )
        missing = [i for i in wanted if i not in found]
        if missing:
            rep = ValidationReport(rows=len(targets))
            mask = targets.isin(missing).to_numpy()
            lines = checked.lines if checked.lines is not None else np.arange(1, len(mask) + 1)
            rep.add(
                "unknown_target",
                "target_id",
                mask,
                targets,
                f"no annotation with this id in the reference table '{meta['reference_table']}'",
                lines,
            )
            raise ValidationFailed(
                f"{len(missing)} target ids do not exist in the reference table "
                f"'{meta['reference_table']}': {', '.join(map(str, missing[:20]))}"
                f"{' ...' if len(missing) > 20 else ''}; nothing was stored.",
                report=rep,
            )

    def _follow_targets(
        self,
        conn: Connection,
        volume: str,
        table: str,
        mapping: dict[int, int],
        stamp: datetime,
    ) -> None:
        """Reference tables that track this one get new versions pointing at the new ids."""
        vid = self.volume_id(conn, volume, create=False)
        trackers = (
            conn.execute(
                sa.select(db.tables_meta).where(
                    db.tables_meta.c.aligned_volume_id == vid,
                    db.tables_meta.c.reference_table == table,
                    db.tables_meta.c.track_target_id_updates.is_(True),
                    db.tables_meta.c.deleted.is_(None),
                )
            )
            .mappings()
            .all()
        )
        for tracker in trackers:
            rmeta = dict(tracker, aligned_volume=volume)
            rt, rspec = self.table_of(rmeta)
            rows: list[dict] = []
            for part in chunks(list(mapping)):
                rows.extend(
                    dict(r)
                    for r in conn.execute(
                        sa.select(rt).where(
                            rt.c.target_id.in_(part),
                            rt.c.superceded_id.is_(None),
                            rt.c.deleted.is_(None),
                        )
                    ).mappings()
                )
            if not rows:
                continue
            old = [int(r["id"]) for r in rows]
            start = first_free_id(conn, rt, tracker["table_name"], len(rows))
            new = np.arange(start, start + len(rows), dtype=np.int64)
            cols = {c: [r[c] for r in rows] for c in rspec.storage_columns}
            cols["target_id"] = [mapping[int(r["target_id"])] for r in rows]
            self._insert(conn, rt, new, cols, None, stamp)
            if rspec.point_fields:
                spatial_index.queue(conn, tracker["id"], new)
            # New versions of live rows: more rows in all, as many live ones as before.
            counts.bump(conn, tracker["id"], live=0, total=len(new), stamp=stamp)
            conn.execute(
                rt.update()
                .where(rt.c.id == sa.bindparam("old_id"))
                .values(
                    deleted=stamp,
                    valid=False,
                    superceded_id=sa.bindparam("new_id"),
                    deleted_by=str(self.user.id),
                ),
                [{"old_id": o, "new_id": int(nw)} for o, nw in zip(old, new, strict=True)],
            )
            self.audit(
                conn,
                "track_target_id_updates",
                volume,
                tracker["table_name"],
                new.tolist(),
                {"replaced": compact(old), "because_of": table},
                at=stamp,
            )
            self._follow_targets(
                conn,
                volume,
                tracker["table_name"],
                dict(zip(old, new.tolist(), strict=True)),
                stamp,
            )


def first_free_id(conn: Connection, t: sa.Table, table: str, n: int, above: int = 0) -> int:
    """The first of ``n`` new ids: after the table's largest id (and ``above``, the largest
    id the same write gives itself), so ids only grow and never collide.

    Users give ids up to MAX_GIVEN_ID (anno_core.ids), which leaves 2**62 ids above for
    assignment. Only a table holding an id near 2**63 from before that rule (or written by
    hand) can leave no room up there: then the ids go after the largest id up to
    MAX_GIVEN_ID, where none are stored."""
    top = int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)
    base = max(top, above)
    if base + n <= INT64_MAX:
        return base + 1
    low = conn.execute(sa.select(sa.func.max(t.c.id)).where(t.c.id <= MAX_GIVEN_ID)).scalar()
    base = max(int(low or 0), above)
    if base + n <= MAX_GIVEN_ID:
        return base + 1
    raise Conflict(
        f"Table {table!r} has no room left for {n:,} new ids: it holds ids near both "
        f"{MAX_GIVEN_ID:,} and the 64-bit limit; give the new annotations ids of your own "
        "below those, or put them in a new table."
    )


def check_restorable(table: str, ids: list[int], rows: dict[int, dict]) -> None:
    """Only stored, deleted rows (not live, not replaced by a newer version) can be
    restored."""
    missing = [i for i in ids if i not in rows]
    if missing:
        raise AnnotationNotFound(
            f"Table {table!r} has no annotation with id {', '.join(map(str, missing[:20]))}; "
            "nothing was restored."
        )
    for i in ids:
        newer = rows[i]["superceded_id"]
        if newer is not None:
            raise InvalidArgument(
                f"Annotation {i} was replaced by annotation {int(newer)}, not deleted; only "
                "deleted annotations can be restored."
            )
    live = [i for i in ids if rows[i]["deleted"] is None and rows[i]["valid"]]
    if live:
        raise InvalidArgument(
            f"Annotation {', '.join(map(str, live[:20]))} of table {table!r} is not deleted; "
            "only deleted annotations can be restored."
        )


def _check_replaceable(table: str, ids: list[int], rows: dict[int, dict]) -> None:
    missing = [i for i in ids if i not in rows]
    if missing:
        raise AnnotationNotFound(
            f"Table {table!r} has no annotation with id {', '.join(map(str, missing[:20]))}; "
            "nothing was updated."
        )
    for i in ids:
        newer = rows[i]["superceded_id"]
        if newer is not None:
            raise AlreadySuperseded(
                f"Annotation with ID {i} has already been superseded by annotation ID "
                f"{int(newer)}, update annotation ID {int(newer)} instead."
            )
