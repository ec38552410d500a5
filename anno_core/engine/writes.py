"""The embedded engine, part 2: inserting, updating (superseding) and deleting rows.

Every write of one call is one transaction. Writers of one database are serialised: a
process-wide lock for Streamlit's threads, and the database's own lock across processes
(BEGIN IMMEDIATE on SQLite, a row lock on the table's metadata elsewhere), so ids taken
from the current maximum can never collide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db
from anno_core.engine.catalogue import LocalTables, chunks
from anno_core.errors import (
    AlreadySuperseded,
    AnnotationNotFound,
    Conflict,
    InvalidArgument,
    ValidationFailed,
)
from anno_core.schemas import AXES, SchemaSpec
from anno_core.settings import Settings
from anno_core.validation.validator import (
    BadShape,
    Validated,
    ValidationReport,
    has_column,
    records_to_frame,
    validate_frame,
)

Progress = Callable[[int, int], None] | None


class LocalBackend(LocalTables):
    """The embedded annotation engine over SQLAlchemy Core (SQLite by default)."""

    kind = "embedded"

    def __init__(self, settings: Settings) -> None:
        self.url = settings.resolved_database_url()
        super().__init__(db.make_engine(self.url), settings.user)
        self._write_lock = db.write_lock(self.url)  # kept: db.dispose() cannot take it away
        self.label = (
            f"embedded engine, data in {Path(settings.data_dir).resolve()}"
            if not settings.database_url
            else f"embedded engine on {_safe(self.url)}"
        )

    def server_version(self) -> None:
        return None

    # -- public writes ---------------------------------------------------------------
    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        meta = self.meta(volume, table)
        _, spec = self.table_of(meta)
        frame = records_to_frame(spec, records)
        return self.insert_frame(
            volume,
            table,
            frame,
            line_label="annotation",
            allow_position_strings=False,
            upload_key=upload_key,
        )

    def insert_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        line_label: str = "line",
        allow_position_strings: bool = True,
        progress: Progress = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Validate a flat frame and store it as new rows; returns the ids in row order."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        if (done := self._done(upload_key, meta)) is not None:
            return list(done.values()) if isinstance(done, dict) else list(done)
        _, spec = self.table_of(meta)
        checked = validate_frame(
            spec,
            frame,
            lines=lines,
            line_label=line_label,
            allow_position_strings=allow_position_strings,
        )
        if prior is not None:
            checked.report.merge(prior)
        checked.report.raise_if_failed()
        return self._store(
            volume, table, checked, len(frame), progress=progress, upload_key=upload_key
        )

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        meta = self.meta(volume, table)
        self.require("write", meta)
        if (done := self._done(upload_key, meta)) is not None:
            # A retry of an update that was stored: the old rows are superseded by now.
            return {int(k): int(v) for k, v in done.items()}
        _, spec = self.table_of(meta)
        old_ids = _record_ids(records)
        old = self._old_rows(volume, table, old_ids)
        merged = []
        for rec, oid in zip(records, old_ids, strict=True):
            base = _nested(spec, self.row_to_record(spec, old[oid]))
            for key, val in rec.items():
                if key == "id":
                    continue
                if isinstance(val, dict) and isinstance(base.get(key), dict):
                    base[key] = {**base[key], **val}
                else:
                    base[key] = val
            merged.append(base)
        frame = records_to_frame(spec, merged)
        checked = validate_frame(spec, frame, line_label="annotation", allow_position_strings=False)
        checked.report.raise_if_failed()
        new_ids = self._store(
            volume, table, checked, len(frame), replace=old_ids, upload_key=upload_key
        )
        return dict(zip(old_ids, new_ids, strict=True))

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update rows named by the frame's ``id`` column; absent columns are inherited."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        if (done := self._done(upload_key, meta)) is not None:
            # A retry of an update that was stored: the old rows are superseded by now.
            return {int(k): int(v) for k, v in done.items()}
        _, spec = self.table_of(meta)
        first = validate_frame(spec, frame, update=True, lines=lines)
        ids_ok = first.report.errors
        ids_ok = ids_ok[ids_ok["column"] == "id"]
        if not ids_ok.empty or first.ids is None:
            first.report.raise_if_failed()
        old_ids = [int(i) for i in first.ids]
        old = self._old_rows(volume, table, old_ids)
        merged = pd.DataFrame(index=range(len(frame)))
        src = frame.reset_index(drop=True)
        for f in spec.data_fields:
            if f.kind == "user":
                continue
            if has_column(src, f):
                if f.kind == "point" and f.column in src.columns:
                    merged[f.column] = src[f.column]
                else:
                    for c in f.storage_columns:
                        merged[c] = src[c]
            else:
                for c in f.storage_columns:
                    merged[c] = pd.Series([old[i][c] for i in old_ids], dtype=object)
        checked = validate_frame(spec, merged, lines=lines)
        checked.report.raise_if_failed()
        new_ids = self._store(
            volume,
            table,
            checked,
            len(frame),
            replace=old_ids,
            progress=progress,
            upload_key=upload_key,
        )
        return dict(zip(old_ids, new_ids, strict=True))

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        meta = self.meta(volume, table)
        self.require("write", meta)
        t, _ = self.table_of(meta)
        ids = [int(i) for i in ids]
        with self._write_lock, self.write_conn() as conn, conn.begin():
            db.lock_table_row(conn, meta["id"])
            found = {int(r["id"]) for r in self._fetch(conn, t, ids)}
            stamp = db.now()
            for part in chunks([i for i in ids if i in found]):
                conn.execute(
                    t.update()
                    .where(t.c.id.in_(part), t.c.deleted.is_(None))
                    .values(deleted=stamp, valid=False, deleted_by=str(self.user.id))
                )
            existing = [i for i in ids if i in found]
            self.audit(conn, "delete_annotation", volume, table, existing, None)
        return existing

    def upload_key_result(self, key: str, table_meta_id: int | None = None) -> Any | None:
        """What an earlier upload with this key stored (ids), or None if it never finished.
        With ``table_meta_id``, a key that belongs to another table is refused."""
        with self.engine.connect() as conn:
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

    def _done(self, upload_key: str | None, meta: dict) -> Any | None:
        """The stored result of this key's upload into this table (checked after the write
        permission, so a key never answers for someone who may not write)."""
        return None if upload_key is None else self.upload_key_result(upload_key, meta["id"])

    # -- internals -------------------------------------------------------------------
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
        progress: Progress = None,
        upload_key: str | None = None,
    ) -> list[int]:
        with self._write_lock, self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("write", meta)
            db.lock_table_row(conn, meta["id"])
            t, spec = self.table_of(meta)
            if upload_key is not None:
                done = conn.execute(
                    sa.select(db.upload_keys.c.result, db.upload_keys.c.table_meta_id).where(
                        db.upload_keys.c.key == upload_key
                    )
                ).first()
                if done is not None and int(done[1]) != int(meta["id"]):
                    raise Conflict(
                        f"The upload key {upload_key!r} belongs to an upload into "
                        "another table; use a new key for this one."
                    )
                if done is not None:
                    stored = json.loads(done[0])
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
                {"replaced": _compact(replace)} if replace is not None else None,
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
        progress: Progress,
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
                {"replaced": _compact(old), "because_of": table},
            )
            self._follow_targets(
                conn, volume, tracker["table_name"], dict(zip(old, new.tolist(), strict=True))
            )


def _compact(ids: list[int] | None) -> Any:
    from anno_core.engine.catalogue import compact_ids

    return None if ids is None else json.loads(compact_ids(ids))


def _record_ids(records: Sequence[dict]) -> list[int]:
    ids = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or "id" not in rec:
            raise InvalidArgument(
                f"Update {i + 1} has no 'id'; every update must name the annotation it "
                "replaces, like {'id': 12, 'tag': 'new'}."
            )
        v = rec["id"]
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | str):
            raise InvalidArgument(f"Update {i + 1}: id {v!r} is not a whole number.")
        try:
            num = float(v)
        except ValueError as exc:
            raise InvalidArgument(f"Update {i + 1}: id {v!r} is not a whole number.") from exc
        if not num.is_integer():
            raise InvalidArgument(f"Update {i + 1}: id {v!r} is not a whole number.")
        ids.append(int(num))
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InvalidArgument(
            f"Id {', '.join(map(str, dup))} is updated more than once in one call; send one "
            "update per annotation."
        )
    return ids


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


def _nested(spec: SchemaSpec, flat: dict[str, Any]) -> dict[str, Any]:
    """A stored flat record back in the nested form users post."""
    out: dict[str, Any] = {}
    for f in spec.data_fields:
        if f.kind == "user":
            continue
        value = flat.get(f.column)
        if value is None:
            continue
        cur = out
        for key in f.path[:-1]:
            cur = cur.setdefault(key, {})
        cur[f.path[-1]] = value
    return out


def _safe(url: str) -> str:
    """A database URL without its password, for display."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - display only
        return "a database"


__all__ = ["LocalBackend", "AXES", "BadShape"]
