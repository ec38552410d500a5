"""The embedded engine, part 1: aligned volumes, table metadata, permissions.

Reading rows (counts, pages, history, points) lives in local_reads.py, mixed in here.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core import permissions
from anno_core.backend import check_resolution
from anno_core.engine import db
from anno_core.engine.reads import CHUNK, LocalReads, chunks
from anno_core.engine.users import UserStore
from anno_core.errors import (
    InvalidArgument,
    PermissionDenied,
    TableExists,
    TableNotFound,
    UserNotFound,
)
from anno_core.identity import User
from anno_core.names import check_table_name, check_volume_name
from anno_core.schemas import AXES, SchemaSpec, schema_spec

META_FIELDS = (
    "id",
    "table_name",
    "schema_type",
    "valid",
    "created",
    "deleted",
    "last_modified",
    "user_id",
    "description",
    "notice_text",
    "reference_table",
    "track_target_id_updates",
    "flat_segmentation_source",
    "voxel_resolution_x",
    "voxel_resolution_y",
    "voxel_resolution_z",
    "read_permission",
    "write_permission",
)


def compact_ids(ids: Iterable[int]) -> str:
    """Ids as a compact JSON list of [first, last] runs (an audit entry stays small)."""
    arr = np.unique(np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64))
    if arr.size == 0:
        return "[]"
    breaks = np.flatnonzero(np.diff(arr) != 1)
    starts = np.concatenate(([arr[0]], arr[breaks + 1]))
    ends = np.concatenate((arr[breaks], [arr[-1]]))
    return json.dumps([[int(a), int(b)] for a, b in zip(starts, ends, strict=True)])


def expand_ids(text: str | None) -> list[int]:
    if not text:
        return []
    return [i for a, b in json.loads(text) for i in range(a, b + 1)]


class LocalTables(LocalReads):
    """Metadata operations of the embedded engine; row reads come from LocalReads."""

    def __init__(self, engine: Engine, acting_user: str | None) -> None:
        self.engine = engine
        self.users = UserStore(engine)
        self._acting = acting_user
        self._user: User | None = None
        self._tables: dict[int, sa.Table] = {}
        self._lock = threading.Lock()

    # -- who is acting ---------------------------------------------------------------
    @property
    def user(self) -> User:
        if self._user is None:
            self.users.ensure_default_admin()
            self._user = self.users.get(self._acting) if self._acting else self.users.get("admin")
        return self._user

    def as_user(self, user: User):  # type: ignore[no-untyped-def]
        """A copy of this backend acting as ``user`` (shares the engine and table cache);
        the REST server makes one per request from the caller's token."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._user = user
        clone._acting = str(user.id)
        return clone

    def whoami(self) -> dict[str, Any]:
        return self.user.to_dict()

    def _owner_groups(self, owner_id: str) -> frozenset[str]:
        try:
            return self.users.get(owner_id).groups
        except UserNotFound:
            return frozenset()

    def can(self, action: str, meta: dict[str, Any]) -> bool:
        return permissions.can(action, self.user, meta, self._owner_groups)

    def require(self, action: str, meta: dict[str, Any]) -> None:
        permissions.require(action, self.user, meta, self._owner_groups)

    # -- volumes and metadata --------------------------------------------------------
    def write_conn(self) -> Connection:
        return self.engine.connect().execution_options(anno_write=True)

    def volume_id(self, conn: Connection, name: str, create: bool) -> int | None:
        check_volume_name(name)
        vid = conn.execute(
            sa.select(db.aligned_volumes.c.id).where(db.aligned_volumes.c.name == name)
        ).scalar()
        if vid is None and create:
            try:
                with conn.begin_nested():  # another process may create it at the same moment
                    vid = conn.execute(
                        db.aligned_volumes.insert().values(name=name, created=db.now())
                    ).inserted_primary_key[0]
            except sa.exc.IntegrityError:
                vid = conn.execute(
                    sa.select(db.aligned_volumes.c.id).where(db.aligned_volumes.c.name == name)
                ).scalar()
        return vid

    def volumes(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(db.aligned_volumes.c.name).order_by(db.aligned_volumes.c.name)
                ).scalars()
            )

    def ensure_volume(self, volume: str) -> None:
        with self.write_conn() as conn, conn.begin():
            self.volume_id(conn, volume, create=True)

    def _meta_row(
        self, conn: Connection, volume: str, table: str, include_deleted: bool = False
    ) -> dict[str, Any]:
        if not isinstance(table, str):
            raise InvalidArgument(f"A table name must be text, not {table!r}.")
        vid = self.volume_id(conn, volume, create=False)
        row = None
        if vid is not None:
            q = sa.select(db.tables_meta).where(
                db.tables_meta.c.aligned_volume_id == vid, db.tables_meta.c.table_name == table
            )
            row = conn.execute(q).mappings().first()
        if row is None or (row["deleted"] is not None and not include_deleted):
            names = self._names(conn, vid) if vid is not None else []
            close = difflib.get_close_matches(table, names, n=3)
            hint = (
                f" Did you mean {', '.join(repr(c) for c in close)}?"
                if close
                else (" Use get_tables() to list the tables.")
            )
            gone = " (it was deleted)" if row is not None else ""
            raise TableNotFound(
                f"There is no table {table!r} in aligned volume {volume!r}{gone}.{hint}"
            )
        meta = dict(row)
        meta["aligned_volume"] = volume
        return meta

    def _names(self, conn: Connection, vid: int) -> list[str]:
        q = sa.select(db.tables_meta.c.table_name).where(
            db.tables_meta.c.aligned_volume_id == vid, db.tables_meta.c.deleted.is_(None)
        )
        return list(conn.execute(q).scalars())

    def meta(self, volume: str, table: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._meta_row(conn, volume, table)

    def table_of(self, meta: dict[str, Any]) -> tuple[sa.Table, SchemaSpec]:
        spec = schema_spec(meta["schema_type"])
        with self._lock:
            t = self._tables.get(meta["id"])
            if t is None:
                t = db.annotation_table(meta["id"], spec)
                self._tables[meta["id"]] = t
        return t, spec

    @staticmethod
    def public_meta(meta: dict[str, Any]) -> dict[str, Any]:
        out = {k: meta.get(k) for k in META_FIELDS}
        for k in ("created", "deleted", "last_modified"):
            out[k] = db.iso(out[k])
        out["valid"] = bool(out["valid"])
        out["aligned_volume"] = meta.get("aligned_volume")
        return out

    def table_name_taken(self, volume: str, table: str) -> bool:
        """Whether ``table`` names a table in ``volume``, deleted ones included."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            if vid is None:
                return False
            return (
                conn.execute(
                    sa.select(db.tables_meta.c.id).where(
                        db.tables_meta.c.aligned_volume_id == vid,
                        db.tables_meta.c.table_name == table,
                    )
                ).first()
                is not None
            )

    def get_tables(self, volume: str) -> list[str]:
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            return sorted(self._names(conn, vid)) if vid is not None else []

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        return self.public_meta(self.meta(volume, table))

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        """Every live table's metadata, with row counts, owner name and what the user may do."""
        out = []
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            if vid is None:
                return []
            rows = (
                conn.execute(
                    sa.select(db.tables_meta)
                    .where(
                        db.tables_meta.c.aligned_volume_id == vid,
                        db.tables_meta.c.deleted.is_(None),
                    )
                    .order_by(db.tables_meta.c.table_name)
                )
                .mappings()
                .all()
            )
            for row in rows:
                meta = dict(row, aligned_volume=volume)
                info = self.public_meta(meta)
                t, _ = self.table_of(meta)
                info["can_read"] = self.can("read", meta)
                info["can_write"] = self.can("write", meta)
                info["can_edit_metadata"] = self.can("metadata", meta)
                info["can_delete"] = self.can("delete", meta)
                if info["can_read"]:
                    info["total_count"] = conn.execute(
                        sa.select(sa.func.count()).select_from(t)
                    ).scalar()
                    info["live_count"] = conn.execute(
                        sa.select(sa.func.count()).select_from(t).where(t.c.valid)
                    ).scalar()
                else:
                    info["total_count"] = info["live_count"] = None
                owner = self.users.find(meta["user_id"])
                info["owner_name"] = owner.name if owner else str(meta["user_id"])
                out.append(info)
        return out

    # -- metadata writes -------------------------------------------------------------
    def create_table(
        self,
        volume: str,
        *,
        table_name: str,
        schema_name: str,
        description: str,
        voxel_resolution: Sequence[float],
        reference_table: str | None,
        track_target_id_updates: bool | None,
        flat_segmentation_source: str | None,
        user_id: Any,
        write_permission: str,
        read_permission: str,
        notice_text: str | None,
    ) -> str:
        check_table_name(table_name)
        spec = schema_spec(schema_name)
        if not isinstance(description, str) or not description.strip():
            raise InvalidArgument(
                "A description is required: say who made the table, what it covers, how to "
                "read it and whom to ask."
            )
        res = check_resolution(voxel_resolution)
        read_permission = _permission("read_permission", read_permission)
        write_permission = _permission("write_permission", write_permission)
        owner = self.user if user_id is None else self._resolve_user(user_id)
        if track_target_id_updates is not None and not isinstance(track_target_id_updates, bool):
            raise InvalidArgument("track_target_id_updates must be true or false.")
        with self.write_conn() as conn, conn.begin():
            vid = self.volume_id(conn, volume, create=True)
            if spec.is_reference:
                if not reference_table:
                    raise InvalidArgument(
                        f"Schema {schema_name!r} annotates rows of another table: give "
                        "reference_table, the name of the table whose ids target_id holds."
                    )
                self._meta_row(conn, volume, reference_table)
            elif reference_table or track_target_id_updates:
                raise InvalidArgument(
                    f"Schema {schema_name!r} is not a reference schema, so reference_table "
                    "and track_target_id_updates do not apply; leave them empty."
                )
            taken = conn.execute(
                sa.select(db.tables_meta.c.deleted).where(
                    db.tables_meta.c.aligned_volume_id == vid,
                    db.tables_meta.c.table_name == table_name,
                )
            ).first()
            if taken is not None:
                extra = " (a deleted table keeps its name)" if taken[0] is not None else ""
                raise TableExists(
                    f"A table called {table_name!r} already exists in aligned volume "
                    f"{volume!r}{extra}; choose another name."
                )
            stamp = db.now()
            try:
                meta_id = self._insert_meta(
                    conn,
                    dict(
                        aligned_volume_id=vid,
                        table_name=table_name,
                        schema_type=schema_name,
                        valid=True,
                        created=stamp,
                        last_modified=stamp,
                        user_id=str(owner.id),
                        description=description,
                        notice_text=_notice(notice_text),
                        reference_table=reference_table if spec.is_reference else None,
                        track_target_id_updates=bool(track_target_id_updates)
                        if spec.is_reference
                        else None,
                        flat_segmentation_source=flat_segmentation_source,
                        voxel_resolution_x=res[0],
                        voxel_resolution_y=res[1],
                        voxel_resolution_z=res[2],
                        read_permission=read_permission,
                        write_permission=write_permission,
                    ),
                )
            except sa.exc.IntegrityError as exc:
                raise TableExists(
                    f"A table called {table_name!r} was just created in aligned volume "
                    f"{volume!r} by someone else; choose another name."
                ) from exc
            db.annotation_table(meta_id, spec).create(conn)
            self.audit(
                conn,
                "create_table",
                volume,
                table_name,
                None,
                {"schema": schema_name, "owner": owner.id},
            )
        return table_name

    @staticmethod
    def _insert_meta(conn: Connection, values: dict[str, Any]) -> int:
        with conn.begin_nested():
            return conn.execute(db.tables_meta.insert().values(**values)).inserted_primary_key[0]

    def _resolve_user(self, user_id: Any) -> User:
        try:
            return self.users.get(user_id if isinstance(user_id, int) else str(user_id))
        except UserNotFound as exc:
            raise UserNotFound(
                f"There is no user {user_id!r} to own the table; give the id or name of an "
                "existing user."
            ) from exc

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        changes = {k: v for k, v in changes.items() if v is not None}
        self.require("metadata", self.meta(volume, table))  # before saying anything more
        for key in ("description", "flat_segmentation_source", "notice_text"):
            if key in changes and not isinstance(changes[key], str):
                raise InvalidArgument(f"{key} must be text, not {changes[key]!r}.")
        values: dict[str, Any] = {}
        if "description" in changes:
            if not changes["description"].strip():
                raise InvalidArgument("The description cannot be empty.")
            values["description"] = changes["description"]
        for key in ("read_permission", "write_permission"):
            if key in changes:
                values[key] = _permission(key, changes[key])
        if "flat_segmentation_source" in changes:
            values["flat_segmentation_source"] = str(changes["flat_segmentation_source"])
        if "notice_text" in changes:
            values["notice_text"] = _notice(changes["notice_text"])
        if "user_id" in changes:
            values["user_id"] = str(self._resolve_user(changes["user_id"]).id)
        with self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("metadata", meta)
            values["last_modified"] = db.now()
            conn.execute(
                db.tables_meta.update().where(db.tables_meta.c.id == meta["id"]).values(**values)
            )
            self.audit(
                conn,
                "update_metadata",
                volume,
                table,
                None,
                {k: v for k, v in values.items() if k != "last_modified"},
            )
            return self.public_meta(self._meta_row(conn, volume, table))

    def delete_table(self, volume: str, table: str) -> bool:
        with self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("delete", meta)
            stamp = db.now()
            conn.execute(
                db.tables_meta.update()
                .where(db.tables_meta.c.id == meta["id"])
                .values(deleted=stamp, valid=False, last_modified=stamp)
            )
            self.audit(conn, "delete_table", volume, table, None, None)
        return True

    def audit(
        self,
        conn: Connection,
        action: str,
        volume: str,
        table: str | None,
        ids: Iterable[int] | None,
        detail: Any,
    ) -> None:
        conn.execute(
            db.audit_log.insert().values(
                at=db.now(),
                user_id=str(self.user.id),
                action=action,
                aligned_volume=volume,
                table_name=table,
                ids=None if ids is None else compact_ids(ids),
                detail=None if detail is None else json.dumps(detail, default=str),
            )
        )

    def audit_entries(self, volume: str | None = None, table: str | None = None) -> list[dict]:
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


def _permission(name: str, value: Any) -> str:
    if isinstance(value, str) and value.upper() in permissions.PERMISSIONS:
        return value.upper()
    raise InvalidArgument(f"{name} must be PRIVATE, GROUP or PUBLIC, not {value!r}.")


def _notice(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return None if text.strip() == "" or text.strip().lower() == "none" else text


__all__ = ["CHUNK", "LocalTables", "PermissionDenied", "AXES", "chunks"]
