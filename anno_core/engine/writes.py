"""The embedded engine's backend: inserting, updating (superseding) and deleting rows.

Every write of one call is one transaction (`store.RowStore._store`). Writers of one
database are serialised: a process-wide lock for Streamlit's threads, and the database's
own lock across processes (BEGIN IMMEDIATE on SQLite, a row lock on the table's metadata
elsewhere), so ids taken from the current maximum can never collide.

The class hierarchy, one responsibility each: `reads.LocalReads` and `audit.Audit` ->
`catalogue.LocalCatalogue` (who acts, volumes, metadata) -> `tables.LocalTables` (table
writes) -> `store.RowStore` (the write transaction) -> `LocalBackend` (the row writes of
the `Backend` contract), with `versions.LocalVersions` (named moments),
`export.LocalExport` (files and download links), `frozen.LocalFrozen` (reads as CAVE's
materialization service answers them), `repairs.Repairs` (deletes by filter, restores, why
a version was made), `uploads.UploadHistory` (past uploads, undoing one),
`summaries.Summaries` (a table's values at a glance, a volume's extent) and
`neuroglancer.LocalNeuroglancer` (sources, grants, volume layers) mixed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from anno_core.arguments import update_ids
from anno_core.common import Progress
from anno_core.engine import counts, db
from anno_core.engine.export import LocalExport
from anno_core.engine.frozen import LocalFrozen
from anno_core.engine.neuroglancer import LocalNeuroglancer
from anno_core.engine.reads import chunks
from anno_core.engine.repairs import Repairs
from anno_core.engine.store import RowStore
from anno_core.engine.summaries import Summaries
from anno_core.engine.upload_keys import frame_digest, records_digest, stored_result
from anno_core.engine.uploads import UploadHistory
from anno_core.engine.versions import LocalVersions
from anno_core.schemas import AXES, SchemaSpec
from anno_core.settings import Settings
from anno_core.validation.validator import (
    BadShape,
    ValidationReport,
    has_column,
    records_to_frame,
    validate_frame,
)


class LocalBackend(
    Repairs,
    UploadHistory,
    Summaries,
    RowStore,
    LocalVersions,
    LocalExport,
    LocalFrozen,
    LocalNeuroglancer,
):
    """The embedded annotation engine over SQLAlchemy Core (SQLite by default)."""

    kind = "embedded"

    def __init__(self, settings: Settings) -> None:
        self.url = settings.resolved_database_url()
        self.settings = settings
        super().__init__(db.make_engine(self.url), settings.user, settings.aligned_volume)
        self._write_lock = db.write_lock(self.url)  # kept: db.dispose() cannot take it away
        self.label = (
            f"embedded engine, data in {Path(settings.data_dir).resolve()}"
            if not settings.database_url
            else f"embedded engine on {_safe(self.url)}"
        )

    def server_version(self) -> None:
        """None: the embedded engine is no server."""
        return None

    # -- public writes ---------------------------------------------------------------
    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        """Store nested records as new rows (all or nothing); their ids in input order."""
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
        progress: Progress | None = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Validate a flat frame and store it as new rows; returns the ids in row order."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        digest = None if upload_key is None else frame_digest(frame)
        if (done := self._done(upload_key, meta, digest)) is not None:
            return list(done.values()) if isinstance(done, dict) else list(done)
        _, spec = self.table_of(meta)
        checked = validate_frame(
            spec,
            frame,
            lines=lines,
            line_label=line_label,
            allow_position_strings=allow_position_strings,
            max_text=self.settings.max_text_length,
        )
        if prior is not None:
            checked.report.merge(prior)
        checked.report.raise_if_failed()
        return self._store(
            volume,
            table,
            checked,
            len(frame),
            progress=progress,
            upload_key=upload_key,
            digest=digest,
        )

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        """Supersede the rows the records name; fields left out are inherited."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        digest = None if upload_key is None else records_digest(records)
        if (done := self._done(upload_key, meta, digest)) is not None:
            # A retry of an update that was stored: the old rows are superseded by now.
            return {int(k): int(v) for k, v in done.items()}
        _, spec = self.table_of(meta)
        old_ids = update_ids(records)
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
        checked = validate_frame(
            spec,
            frame,
            line_label="annotation",
            allow_position_strings=False,
            max_text=self.settings.max_text_length,
        )
        checked.report.raise_if_failed()
        new_ids = self._store(
            volume,
            table,
            checked,
            len(frame),
            replace=old_ids,
            upload_key=upload_key,
            digest=digest,
        )
        return dict(zip(old_ids, new_ids, strict=True))

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress | None = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update rows named by the frame's ``id`` column; absent columns are inherited."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        digest = None if upload_key is None else frame_digest(frame)
        if (done := self._done(upload_key, meta, digest)) is not None:
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
        checked = validate_frame(spec, merged, lines=lines, max_text=self.settings.max_text_length)
        checked.report.raise_if_failed()
        new_ids = self._store(
            volume,
            table,
            checked,
            len(frame),
            replace=old_ids,
            progress=progress,
            upload_key=upload_key,
            digest=digest,
        )
        return dict(zip(old_ids, new_ids, strict=True))

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        """Mark rows deleted (a second delete keeps the first time); the ids that existed."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        t, _ = self.table_of(meta)
        ids = [int(i) for i in ids]
        with self._write_lock, self.write_conn() as conn, conn.begin():
            db.lock_table_row(conn, meta["id"])
            found = {int(r["id"]) for r in self._fetch(conn, t, ids)}
            stamp = db.now()
            gone = 0  # rows this call marked (a row deleted before is not counted twice)
            for part in chunks([i for i in ids if i in found]):
                gone += conn.execute(
                    t.update()
                    .where(t.c.id.in_(part), t.c.deleted.is_(None))
                    .values(deleted=stamp, valid=False, deleted_by=str(self.user.id))
                ).rowcount
            if gone:
                counts.bump(conn, meta["id"], live=-gone, total=0, stamp=stamp)
            existing = [i for i in ids if i in found]
            self.audit(conn, "delete_annotation", volume, table, existing, None, at=stamp)
        return existing

    def upload_key_result(self, key: str, table_meta_id: int | None = None) -> Any | None:
        """What an earlier upload with this key stored (ids), or None if it never finished.
        With ``table_meta_id``, a key that belongs to another table is refused."""
        with self.engine.connect() as conn:
            return stored_result(conn, key, table_meta_id)

    def upload_result(
        self, volume: str, table: str, upload_key: str
    ) -> list[int] | dict[int, int] | None:
        """What an upload with this key stored in ``table``; None if none, or if the user
        may not write there (a key answers only to writers, as every look-up here does)."""
        meta = self.meta(volume, table)
        if not self.can("write", meta):
            return None
        done = self.upload_key_result(upload_key, meta["id"])
        if done is None:
            return None
        if isinstance(done, dict):
            return {int(k): int(v) for k, v in done.items()}
        return [int(i) for i in done]

    def _done(self, upload_key: str | None, meta: dict, digest: str | None) -> Any | None:
        """The stored result of this key's upload into this table (checked after the write
        permission, so a key never answers for someone who may not write); a key that
        stored other content than ``digest`` is refused."""
        if upload_key is None:
            return None
        with self.engine.connect() as conn:
            return stored_result(conn, upload_key, meta["id"], digest)


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
