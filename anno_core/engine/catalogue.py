"""The embedded engine, part 1: who is acting, aligned volumes and table metadata.

Reading rows (counts, pages, history, points) comes from `reads.LocalReads` and the audit
log from `audit.Audit`, both mixed in here; creating, changing and deleting tables is
`tables.LocalTables`, and rows are written by `writes.LocalBackend`.
"""

from __future__ import annotations

import difflib
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core import permissions
from anno_core.engine import db
from anno_core.engine.audit import Audit
from anno_core.engine.people import LocalPeople
from anno_core.engine.reads import LocalReads
from anno_core.engine.users import UserStore
from anno_core.errors import (
    InvalidArgument,
    NotAuthenticated,
    PermissionDenied,
    TableNotFound,
    UserNotFound,
)
from anno_core.identity import User
from anno_core.names import check_volume_name
from anno_core.schemas import SchemaSpec, schema_spec
from anno_core.settings import Settings

av = db.aligned_volumes

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


class LocalCatalogue(LocalReads, Audit):
    """Who acts, the volumes and the table metadata of the embedded engine."""

    settings: Settings  # set by LocalBackend: the limits and rights the engine applies

    def __init__(self, engine: Engine, acting_user: str | None, default_volume: str) -> None:
        self.engine = engine
        self.users = UserStore(engine)
        self._acting = acting_user
        self._default_volume = check_volume_name(default_volume)
        self._user: User | None = None
        self._tables: dict[int, sa.Table] = {}
        self._lock = threading.Lock()

    # -- who is acting ---------------------------------------------------------------
    @property
    def user(self) -> User:
        """The acting user (the built-in admin, created on first use, when none is named)."""
        if self._user is None:
            self.users.ensure_default_admin()
            user = self.users.get(self._acting) if self._acting else self.users.get("admin")
            if self.users.is_disabled(user.id):
                raise NotAuthenticated(
                    f"User {user.name!r} is disabled; ask an admin to enable it again."
                )
            self._user = user
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
        """The acting user: id, name, groups, is_admin."""
        return self.user.to_dict()

    def list_users(self) -> list[dict[str, Any]]:
        """Every user of this engine: id, name, groups, is_admin."""
        self.user  # noqa: B018 - the acting user (the built-in admin on first use) exists
        return [u.to_dict() for u in self.users.list()]

    def people(self) -> LocalPeople:
        """Users, groups and sign-in e-mails, as the acting user may manage them."""
        return LocalPeople(self.users, self.user)

    def default_volume(self) -> str:
        """The aligned volume calls use when they name none (the settings' one)."""
        return self._default_volume

    def _owner_groups(self, owner_id: str) -> frozenset[str]:
        try:
            return self.users.get(owner_id).groups
        except UserNotFound:
            return frozenset()

    def can(self, action: str, meta: dict[str, Any]) -> bool:
        """Whether the acting user may do ``action`` (read/write/metadata/delete)."""
        return permissions.can(action, self.user, meta, self._owner_groups)

    def require(self, action: str, meta: dict[str, Any]) -> None:
        """PermissionDenied unless the acting user may do ``action`` on the table."""
        permissions.require(action, self.user, meta, self._owner_groups)

    # -- volumes and metadata --------------------------------------------------------
    def write_conn(self) -> Connection:
        """A connection whose transactions take the database's writer lock."""
        return self.engine.connect().execution_options(anno_write=True)

    def volume_id(self, conn: Connection, name: str, create: bool) -> int | None:
        """The id of aligned volume ``name`` (created first with ``create``), or None."""
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
        """The aligned volumes this engine knows, by name."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(db.aligned_volumes.c.name).order_by(db.aligned_volumes.c.name)
                ).scalars()
            )

    def ensure_volume(self, volume: str) -> None:
        """Create aligned volume ``volume`` unless it exists."""
        with self.write_conn() as conn, conn.begin():
            self.volume_id(conn, volume, create=True)

    def datastack_volume(self, name: str) -> int:
        """The id of the aligned volume a datastack names (the info service's answer). It
        is created on first use by an admin, or by anyone with ANNO_ANYONE_CREATES_VOLUMES."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, name, create=False)
        if vid is not None:
            return int(vid)
        if not (self.user.is_admin or self.settings.anyone_creates_volumes):
            raise PermissionDenied(
                f"There is no aligned volume {name!r}, and user '{self.user.name}' may not "
                "create one: ask an admin to open it once (or to set "
                "ANNO_ANYONE_CREATES_VOLUMES=true on the server)."
            )
        with self.write_conn() as conn, conn.begin():
            return int(self.volume_id(conn, name, create=True))

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
        """A live table's metadata row (TableNotFound, with close names, if there is none)."""
        with self.engine.connect() as conn:
            return self._meta_row(conn, volume, table)

    def table_of(self, meta: dict[str, Any]) -> tuple[sa.Table, SchemaSpec]:
        """The SQL table and schema of a table (SQL tables are cached per metadata id)."""
        spec = schema_spec(meta["schema_type"])
        with self._lock:
            t = self._tables.get(meta["id"])
            if t is None:
                t = db.annotation_table(meta["id"], spec)
                self._tables[meta["id"]] = t
        return t, spec

    @staticmethod
    def public_meta(meta: dict[str, Any]) -> dict[str, Any]:
        """A metadata row as the API shows it: CAVE's fields, ISO times."""
        out = {k: meta.get(k) for k in META_FIELDS}
        # Beyond CAVE's fields: when rows last changed (insert, update, delete), beside
        # last_modified, which is when the metadata last changed.
        out["last_data_change"] = meta.get("last_data_change")
        for k in ("created", "deleted", "last_modified", "last_data_change"):
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
        """Names of the live tables of ``volume``, sorted."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            return sorted(self._names(conn, vid)) if vid is not None else []

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        """A live table's metadata as the API shows it."""
        return self.public_meta(self.meta(volume, table))

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        """Every live table's metadata, with row counts, owner name and what the user may do:
        one query, whatever the number of tables (counts are kept by the writes)."""
        m, u, g = db.tables_meta, db.users, db.user_groups
        mine = sorted(self.user.groups)
        # Whether the owner shares a group with the acting user: all GROUP permission needs.
        shares = (
            sa.exists()
            .where(sa.cast(g.c.user_id, sa.String) == m.c.user_id, g.c.group_name.in_(mine))
            .correlate(m)
            if mine
            else sa.false()
        )
        q = (
            sa.select(m, av.c.name.label("aligned_volume"), u.c.name.label("owner_name"))
            .select_from(
                m.join(av, av.c.id == m.c.aligned_volume_id).outerjoin(
                    u, sa.cast(u.c.id, sa.String) == m.c.user_id
                )
            )
            .add_columns(shares.label("owner_shares_group"))
            .where(av.c.name == volume, m.c.deleted.is_(None))
            .order_by(m.c.table_name)
        )
        with self.engine.connect() as conn:
            result = conn.execute(q)
            keys = list(result.keys())
            rows = result.fetchall()
        user = self.user
        me = str(user.id)
        out = []
        for row in rows:
            meta = dict(zip(keys, row, strict=True))
            shared = user.groups if meta.pop("owner_shares_group") else frozenset()
            owner_name = meta.pop("owner_name")
            owner = str(meta["user_id"])
            info = self.public_meta(meta)
            # permissions.can, with the owner's shared groups known from the query
            for right, action in (("can_read", "read"), ("can_write", "write")):
                level = meta[f"{action}_permission"]
                info[right] = (
                    level == "PUBLIC"
                    or user.is_admin
                    or me == owner
                    or permissions.can(action, user, meta, lambda _o, s=shared: s)
                )
            info["can_edit_metadata"] = user.is_admin or me == owner
            info["can_delete"] = user.is_admin
            readable = info["can_read"]
            info["total_count"] = int(meta["total_count"]) if readable else None
            info["live_count"] = int(meta["live_count"]) if readable else None
            info["owner_name"] = owner_name if owner_name is not None else owner
            out.append(info)
        return out
