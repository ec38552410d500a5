"""The embedded engine, part 3: one write transaction that stores validated rows.

`RowStore._store` is every insert and update: under the database's writer lock it checks
the upload key, the rows an update replaces and the reference targets, assigns ids after
the current maximum (or the caller's own), inserts in bulk, supersedes old rows, follows
tracking reference tables and writes the audit entry and the upload key, all at once.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.common import Progress
from anno_core.engine import db, spatial_index
from anno_core.engine.audit import compact
from anno_core.engine.reads import chunks
from anno_core.engine.tables import LocalTables
from anno_core.errors import AlreadySuperseded, AnnotationNotFound, Conflict, ValidationFailed
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import Validated, ValidationReport


def stored_result(conn: Connection, key: str, table_meta_id: int | None) -> Any | None:
    """What the upload with ``key`` stored (ids, or {old: new} with text keys), or None.
    With ``table_meta_id``, a key that belongs to another table is refused."""
    row = conn.execute(
        sa.select(db.upload_keys.c.result, db.upload_keys.c.table_meta_id).where(
            db.upload_keys.c.key == key
        )
    ).first()
    if row is None:
        return None
    if table_meta_id is not None and int(row[1]) != int(table_meta_id):
        raise Conflict(
            f"The upload key {key!r} belongs to an upload into another table; use a new "
            "key for this one."
        )
    return json.loads(row[0])


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
    ) -> list[int]:
        with self._write_lock, self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("write", meta)
            db.lock_table_row(conn, meta["id"])
            t, spec = self.table_of(meta)
            if upload_key is not None:  # re-checked inside the lock: a twin may have won
                stored = stored_result(conn, upload_key, meta["id"])
                if stored is not None:
                    return list(stored.values()) if isinstance(stored, dict) else stored
            if replace is not None:  # re-check inside the lock: another writer may have won
                rows = {int(r["id"]): r for r in self._fetch(conn, t, replace)}
                _check_replaceable(table, replace, rows)
            self._check_targets(conn, volume, meta, spec, checked)
            user_ids = None if replace is not None else checked.ids
            ids = self._assign_ids(conn, t, table, user_ids, n, checked)
            cols = dict(checked.columns)
            if any(f.kind == "user" for f in spec.data_fields):
                for f in spec.data_fields:
                    if f.kind == "user":
                        cols[f.column] = np.full(n, self.user.id, dtype=np.int64)
            self._insert(conn, t, ids, cols, progress)
            if spec.point_fields:  # indexed for Neuroglancer when someone opens it there
                spatial_index.queue(conn, meta["id"], ids)
            stamp = db.now()
            if replace is not None:
                conn.execute(
                    t.update()
                    .where(t.c.id == sa.bindparam("old_id"))
                    .values(
                        deleted=stamp,
                        valid=False,
                        superceded_id=sa.bindparam("new_id"),
                        deleted_by=str(self.user.id),
                    ),
                    [{"old_id": o, "new_id": int(nw)} for o, nw in zip(replace, ids, strict=True)],
                )
                self._follow_targets(
                    conn, volume, table, dict(zip(replace, ids.tolist(), strict=True))
                )
            self.audit(
                conn,
                "update_annotation" if replace is not None else "post_annotation",
                volume,
                table,
                ids.tolist(),
                {"replaced": compact(replace)} if replace is not None else None,
            )
            if upload_key is not None:
                result = (
                    dict(zip(map(str, replace), ids.tolist(), strict=True))
                    if replace is not None
                    else ids.tolist()
                )
                conn.execute(
                    db.upload_keys.insert().values(
                        key=upload_key,
                        table_meta_id=meta["id"],
                        created=stamp,
                        result=json.dumps(result),
                    )
                )
        return ids.tolist()

    def _insert(
        self,
        conn: Connection,
        t: sa.Table,
        ids: np.ndarray,
        cols: dict[str, Any],
        progress: Progress | None,
    ) -> None:
        n = len(ids)
        # Values shared by every row go as constants (bound once, not per row), and the
        # columns always empty on insert (deleted, superceded_id, deleted_by) are left to
        # their default: binding them per row cost a third of a million-row insert.
        constants = {"created": db.now(), "valid": True, "created_by": str(self.user.id)}
        data: dict[str, Any] = {"id": ids}
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
        top = int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)
        if user_ids is None or not user_ids.notna().any():
            return np.arange(top + 1, top + 1 + n, dtype=np.int64)
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
        start = max(top, int(wanted.max())) + 1
        ids[~given] = np.arange(start, start + int((~given).sum()), dtype=np.int64)
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
        self, conn: Connection, volume: str, table: str, mapping: dict[int, int]
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
            top = int(conn.execute(sa.select(sa.func.max(rt.c.id))).scalar() or 0)
            new = np.arange(top + 1, top + 1 + len(rows), dtype=np.int64)
            cols = {c: [r[c] for r in rows] for c in rspec.storage_columns}
            cols["target_id"] = [mapping[int(r["target_id"])] for r in rows]
            self._insert(conn, rt, new, cols, None)
            if rspec.point_fields:
                spatial_index.queue(conn, tracker["id"], new)
            stamp = db.now()
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
            )
            self._follow_targets(
                conn, volume, tracker["table_name"], dict(zip(old, new.tolist(), strict=True))
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
