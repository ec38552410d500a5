"""The embedded engine's view of past uploads: what an upload key stored and what became of
it, the uploads of a table (from the audit log), and undoing one.

Every answer is bounded by the upload it is about: ids are read as runs (``id BETWEEN a AND
b``), and only the rows that are no longer live are read back, so asking about a million-row
upload reads a few numbers when its rows are untouched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import counts, db
from anno_core.engine.audit import compact, compact_ids, expand_ids
from anno_core.engine.reads import chunks
from anno_core.errors import AnnotationNotFound, Conflict, InvalidArgument

MAX_RANGES = 64  # id runs read one by one; beyond this, by chunks of ids
MAX_UPLOADS = 200


def runs(ids: Sequence[int] | np.ndarray) -> list[tuple[int, int]]:
    """Sorted ids as [first, last] runs of consecutive numbers."""
    arr = np.unique(np.asarray(ids, dtype=np.int64))
    if arr.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(arr) != 1)
    starts = np.concatenate(([arr[0]], arr[breaks + 1]))
    ends = np.concatenate((arr[breaks], [arr[-1]]))
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def not_live(conn: Connection, t: sa.Table, ids: Sequence[int]) -> list[tuple[int, int | None]]:
    """(id, superceded_id) of the given ids that are not live (deleted or replaced)."""
    spans = runs(ids)
    out: list[tuple[int, int | None]] = []
    cols = (t.c.id, t.c.superceded_id)
    if len(spans) <= MAX_RANGES:
        for a, b in spans:
            q = sa.select(*cols).where(t.c.id.between(a, b), sa.not_(t.c.valid))
            out.extend((int(i), None if s is None else int(s)) for i, s in conn.execute(q))
    else:  # scattered ids (given by the file): look them up in chunks
        for part in chunks(sorted({int(i) for i in ids})):
            q = sa.select(*cols).where(t.c.id.in_(part), sa.not_(t.c.valid))
            out.extend((int(i), None if s is None else int(s)) for i, s in conn.execute(q))
    return sorted(out)


def states(conn: Connection, t: sa.Table, ids: Sequence[int]) -> dict[str, Any]:
    """How many of ``ids`` are live, deleted or replaced, and the ones that are not live."""
    gone = not_live(conn, t, ids)
    replaced = sum(1 for _, s in gone if s is not None)
    return {
        "live": len(set(int(i) for i in ids)) - len(gone),
        "deleted": len(gone) - replaced,
        "replaced": replaced,
        "not_live": [[i, s] for i, s in gone],
    }


class UploadHistory:
    """Past uploads of a table (mixed into the embedded backend)."""

    # Provided by the backend this is mixed into.
    engine: Any
    users: Any
    user: Any
    meta: Any
    can: Any
    require: Any
    table_of: Any
    audit: Any
    write_conn: Any
    _write_lock: Any
    _meta_row: Any

    def upload_record(
        self,
        volume: str,
        table: str,
        upload_key: str,
        *,
        rows: int | None = None,
        update: bool = False,
    ) -> dict[str, Any] | None:
        """What the upload with this key stored, when, by whom, and what became of its rows;
        None if nothing was stored with it (or the user may not write to the table)."""
        return self.batches_record(volume, table, [upload_key])

    def batches_record(self, volume: str, table: str, keys: Sequence[str]) -> dict[str, Any] | None:
        """`upload_record` of an upload stored in batches, one key each (None unless every
        batch was stored: an interrupted upload is resumed, not reported as done)."""
        meta = self.meta(volume, table)
        if not self.can("write", meta):
            return None
        t, _ = self.table_of(meta)
        with self.engine.connect() as conn:
            found = {}
            for part in chunks(list(keys)):
                q = sa.select(db.upload_keys).where(db.upload_keys.c.key.in_(part))
                found.update({r["key"]: dict(r) for r in conn.execute(q).mappings()})
            if not keys or any(k not in found for k in keys):
                return None
            if any(int(found[k]["table_meta_id"]) != int(meta["id"]) for k in keys):
                raise Conflict(
                    "This upload key belongs to an upload into another table; use a new key."
                )
            results = [json.loads(found[k]["result"]) for k in keys]
            if all(isinstance(r, dict) for r in results):
                result: Any = {str(k): int(v) for r in results for k, v in r.items()}
                new_ids = list(result.values())
            else:
                result = [int(i) for r in results for i in r]
                new_ids = result
            first = found[keys[0]]
            who = first.get("user_id") or self._stored_by(conn, volume, table, new_ids)
            out = {
                "result": result,
                "created": db.iso(first["created"]),
                "user_id": who,
                "user_name": self._name_of(who),
                "rows": len(new_ids),
            }
            out.update(states(conn, t, new_ids))
        return out

    def list_uploads(self, volume: str, table: str, limit: int = 20) -> list[dict[str, Any]]:
        """The latest uploads (new rows stored in one call) of a table, newest first, each
        with how many of its rows are still live."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, _ = self.table_of(meta)
        limit = max(1, min(int(limit), MAX_UPLOADS))
        log = db.audit_log
        q = (
            sa.select(log)
            .where(
                log.c.aligned_volume == volume,
                log.c.table_name == table,
                log.c.action == "post_annotation",
            )
            .order_by(log.c.id.desc())
            .limit(limit)
        )
        out = []
        with self.engine.connect() as conn:
            for entry in conn.execute(q).mappings().all():
                ids = expand_ids(entry["ids"])
                if not ids:
                    continue
                info = states(conn, t, ids)
                out.append(
                    {
                        "upload": int(entry["id"]),
                        "at": db.iso(entry["at"]),
                        "user_id": entry["user_id"],
                        "user_name": self._name_of(entry["user_id"]),
                        "rows": len(ids),
                        "first_id": min(ids),
                        "last_id": max(ids),
                        "live": info["live"],
                        "deleted": info["deleted"],
                        "replaced": info["replaced"],
                    }
                )
        return out

    def undo_upload(self, volume: str, table: str, upload: int) -> int:
        """Delete every row the upload ``upload`` (an id from `list_uploads`) stored that is
        still live, in one transaction; the audit entry says it undid that upload."""
        meta = self.meta(volume, table)
        self.require("write", meta)
        t, _ = self.table_of(meta)
        log = db.audit_log
        with self._write_lock, self.write_conn() as conn, conn.begin():
            db.lock_table_row(conn, meta["id"])
            entry = (
                conn.execute(
                    sa.select(log).where(
                        log.c.id == int(upload),
                        log.c.aligned_volume == volume,
                        log.c.table_name == table,
                    )
                )
                .mappings()
                .first()
            )
            if entry is None or entry["action"] != "post_annotation":
                raise AnnotationNotFound(
                    f"Table {table!r} has no upload {upload}; list its uploads to pick one."
                )
            ids = expand_ids(entry["ids"])
            live: list[int] = []
            for a, b in runs(ids):
                q = sa.select(t.c.id).where(t.c.id.between(a, b), t.c.valid)
                live.extend(int(i) for i in conn.execute(q).scalars())
            if not live:
                raise InvalidArgument(
                    f"Every row upload {upload} stored is already deleted or replaced; "
                    "there is nothing to undo."
                )
            stamp = db.now()
            for a, b in runs(live):
                conn.execute(
                    t.update()
                    .where(t.c.id.between(a, b), t.c.valid)
                    .values(deleted=stamp, valid=False, deleted_by=str(self.user.id))
                )
            counts.bump(conn, meta["id"], live=-len(live), total=0, stamp=stamp)
            detail = {
                "reason": "undo_upload",
                "upload": int(upload),
                "upload_at": db.iso(entry["at"]),
                "upload_by": self._name_of(entry["user_id"]),
                "upload_ids": compact(ids),
            }
            self.audit(conn, "delete_annotation", volume, table, live, detail, at=stamp)
        return len(live)

    # -- helpers -------------------------------------------------------------------------
    def _name_of(self, user_id: Any) -> str | None:
        if user_id in (None, ""):
            return None
        who = self.users.find(str(user_id))
        return who.name if who else str(user_id)

    @staticmethod
    def _stored_by(conn: Connection, volume: str, table: str, ids: list[int]) -> str | None:
        """Who stored ``ids`` (for upload keys kept before their user was): the audit
        entry that lists exactly those ids."""
        if not ids:
            return None
        log = db.audit_log
        text = compact_ids(ids)
        q = sa.select(log.c.user_id).where(
            log.c.aligned_volume == volume,
            log.c.table_name == table,
            log.c.action.in_(("post_annotation", "update_annotation")),
            log.c.ids == text,
        )
        return conn.execute(q).scalar()
