"""The embedded engine, part 2: creating tables, changing their metadata, deleting them.

Each change is one transaction with its audit entry; a deleted table keeps its rows and
its name (its metadata is stamped, never removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.arguments import check_metadata_text, check_permission, check_resolution
from anno_core.engine import db
from anno_core.engine.catalogue import LocalCatalogue
from anno_core.errors import InvalidArgument, PermissionDenied, TableExists, UserNotFound
from anno_core.identity import User
from anno_core.names import check_table_name
from anno_core.schemas import schema_spec


class LocalTables(LocalCatalogue):
    """Table-level writes of the embedded engine."""

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
        """Create a table of a schema, owned by ``user_id`` (default: the acting user)."""
        check_table_name(table_name)
        spec = schema_spec(schema_name)
        if not isinstance(description, str) or not description.strip():
            raise InvalidArgument(
                "A description is required: say who made the table, what it covers, how to "
                "read it and whom to ask."
            )
        limit = self.settings.max_metadata_length
        check_metadata_text("The description", description, limit)
        notice_text = _notice(check_metadata_text("The notice", notice_text, limit))
        flat_segmentation_source = check_metadata_text(
            "flat_segmentation_source", flat_segmentation_source, limit
        )
        res = check_resolution(voxel_resolution)
        read_permission = check_permission("read_permission", read_permission)
        write_permission = check_permission("write_permission", write_permission)
        owner = self.user if user_id is None else self._resolve_user(user_id)
        if owner.id != self.user.id and not self.user.is_admin:
            raise PermissionDenied(
                f"User '{self.user.name}' may not create a table owned by '{owner.name}': only "
                "admins create tables on behalf of another user; leave user_id out to own it "
                "yourself (you can hand it over later in its metadata)."
            )
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
                        notice_text=notice_text,
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
                at=stamp,
            )
        return table_name

    @staticmethod
    def _insert_meta(conn: Connection, values: dict[str, Any]) -> int:
        with conn.begin_nested():
            return conn.execute(db.tables_meta.insert().values(**values)).inserted_primary_key[0]

    def _resolve_user(self, user_id: Any) -> User:
        try:
            if isinstance(user_id, bool) or not isinstance(user_id, int | str):
                raise UserNotFound(f"{user_id!r:.60} names no user")  # True is not user 1
            return self.users.get(user_id)  # ids beyond 64 bits name nobody
        except UserNotFound as exc:
            raise UserNotFound(
                f"There is no user {user_id!r} to own the table; give the id or name of an "
                "existing user."
            ) from exc

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        """Change the metadata given (None changes nothing); owner or admin only."""
        changes = {k: v for k, v in changes.items() if v is not None}
        self.require("metadata", self.meta(volume, table))  # before saying anything more
        for key in ("description", "flat_segmentation_source", "notice_text"):
            if key in changes:
                check_metadata_text(key, changes[key], self.settings.max_metadata_length)
        values: dict[str, Any] = {}
        if "description" in changes:
            if not changes["description"].strip():
                raise InvalidArgument("The description cannot be empty.")
            values["description"] = changes["description"]
        for key in ("read_permission", "write_permission"):
            if key in changes:
                values[key] = check_permission(key, changes[key])
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
        """Stamp a table deleted (admins only); its rows and its name are kept."""
        with self.write_conn() as conn, conn.begin():
            meta = self._meta_row(conn, volume, table)
            self.require("delete", meta)
            stamp = db.now()
            conn.execute(
                db.tables_meta.update()
                .where(db.tables_meta.c.id == meta["id"])
                .values(deleted=stamp, valid=False, last_modified=stamp)
            )
            self.audit(conn, "delete_table", volume, table, None, None, at=stamp)
        return True


def _notice(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return None if text.strip() == "" or text.strip().lower() == "none" else text
