"""The embedded engine's versions: named moments of an aligned volume, and reads at a moment.

A version names a moment (``timestamp``) with a description and who made it; every read and
export can take it instead of a timestamp, and caveclient sees versions as its
materialization versions (numbered 1, 2, ... per volume). Versions never expire; an admin
may delete one (it is stamped, never removed, and keeps its name and number).

Creating a version waits for the writes in progress in its volume (`dialect.
lock_volume_tables`), so a write that was running when a version was made can never appear
in it later.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db, dialect
from anno_core.errors import Conflict, InvalidArgument, PermissionDenied, VersionNotFound
from anno_core.moments import Moment, parse_moment, shown, wire
from anno_core.names import check_version_name


class LocalVersions:
    """Versions of the embedded engine (mixed into LocalBackend)."""

    # Provided by the backend this is mixed into.
    engine: Any
    users: Any
    user: Any
    _write_lock: Any
    write_conn: Any
    volume_id: Any
    audit: Any
    check_moment: Any

    def create_version(
        self, volume: str, name: str, description: str, timestamp: Any = None
    ) -> dict[str, Any]:
        """Name a moment of ``volume`` (now by default); any user may, and is named in it."""
        check_version_name(name)
        if not isinstance(description, str) or not description.strip():
            raise InvalidArgument(
                "A version needs a description: say why it was made (a paper, an analysis, "
                "a release) so others know what it holds."
            )
        asked = parse_moment(timestamp)
        with self._write_lock, self.write_conn() as conn, conn.begin():
            vid = self.volume_id(conn, volume, create=True)
            # Wait for the writes in progress in this volume: one running now can then never
            # appear in this version later (SQLite's BEGIN IMMEDIATE already waited).
            dialect.lock_volume_tables(conn, db.tables_meta, vid)
            now = db.now()
            at = now if asked is None else asked
            if at > now:
                raise InvalidArgument(
                    f"A version cannot name a moment in the future ({shown(at)}; it is "
                    f"{shown(now)} now); leave the timestamp out to name this moment."
                )
            taken = self._version_row(conn, vid, name)
            if taken is not None:
                raise Conflict(
                    f"Aligned volume {volume!r} already has a version called {name!r} "
                    f"({'deleted, its name kept' if taken['deleted'] else 'made'} "
                    f"{shown(taken['created'])}); choose another name."
                )
            top = conn.execute(
                sa.select(sa.func.max(db.versions.c.number)).where(
                    db.versions.c.aligned_volume_id == vid
                )
            ).scalar()
            conn.execute(
                db.versions.insert().values(
                    aligned_volume_id=vid,
                    number=int(top or 0) + 1,
                    name=name,
                    description=description,
                    timestamp=at,
                    created=now,
                    created_by=str(self.user.id),
                )
            )
            self.audit(
                conn,
                "create_version",
                volume,
                None,
                None,
                {"name": name, "number": int(top or 0) + 1, "timestamp": at.isoformat()},
                at=now,
            )
        return self.get_version(volume, name)

    def list_versions(self, volume: str) -> list[dict[str, Any]]:
        """The versions of ``volume`` that are not deleted, oldest number first."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            if vid is None:
                return []
            rows = conn.execute(
                sa.select(db.versions)
                .where(db.versions.c.aligned_volume_id == vid, db.versions.c.deleted.is_(None))
                .order_by(db.versions.c.number)
            ).mappings()
            return [self._version_dict(dict(r), volume) for r in rows]

    def get_version(self, volume: str, version: str | int) -> dict[str, Any]:
        """One version by name or number; VersionNotFound (with close names) otherwise."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            row = None if vid is None else self._version_row(conn, vid, version)
            if row is None or row["deleted"] is not None:
                raise self._unknown(conn, vid, volume, version, row)
            return self._version_dict(row, volume)

    def delete_version(self, volume: str, version: str | int) -> bool:
        """Stamp a version deleted (admins only); it keeps its name and number."""
        if not self.user.is_admin:
            raise PermissionDenied(
                "Only an admin may delete a version (a paper may cite it); ask one."
            )
        with self._write_lock, self.write_conn() as conn, conn.begin():
            vid = self.volume_id(conn, volume, create=False)
            row = None if vid is None else self._version_row(conn, vid, version)
            if row is None or row["deleted"] is not None:
                raise self._unknown(conn, vid, volume, version, row)
            now = db.now()
            conn.execute(
                db.versions.update()
                .where(db.versions.c.id == row["id"])
                .values(deleted=now, deleted_by=str(self.user.id))
            )
            self.audit(
                conn,
                "delete_version",
                volume,
                None,
                None,
                {"name": row["name"], "number": row["number"]},
                at=now,
            )
        return True

    def resolve_moment(self, volume: str, timestamp: Any = None, version: Any = None) -> Moment:
        """The moment a read asks for: a timestamp, a version, or now (neither)."""
        if version is not None and timestamp is not None:
            raise InvalidArgument("Give a timestamp or a version, not both.")
        if version is not None:
            found = self.get_version(volume, version)
            return Moment(parse_moment(found["timestamp"]), found["name"])
        return Moment(self.check_moment(timestamp))

    def tables_at(self, volume: str, at: datetime) -> list[dict[str, Any]]:
        """The metadata rows of the tables of ``volume`` that existed at ``at``."""
        with self.engine.connect() as conn:
            vid = self.volume_id(conn, volume, create=False)
            if vid is None:
                return []
            m = db.tables_meta
            rows = conn.execute(
                sa.select(m)
                .where(
                    m.c.aligned_volume_id == vid,
                    m.c.created <= at,
                    sa.or_(m.c.deleted.is_(None), m.c.deleted > at),
                )
                .order_by(m.c.table_name)
            ).mappings()
            return [dict(r, aligned_volume=volume) for r in rows]

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _version_row(conn: Connection, vid: int, version: str | int) -> dict[str, Any] | None:
        v = db.versions
        if isinstance(version, int) and not isinstance(version, bool):
            key = v.c.number == int(version)
        elif isinstance(version, str) and version.strip().isdigit():
            key = v.c.number == int(version.strip())
        elif isinstance(version, str):
            key = v.c.name == version
        else:
            raise InvalidArgument(f"A version is a name or a number, not {version!r}.")
        row = conn.execute(sa.select(v).where(v.c.aligned_volume_id == vid, key)).mappings()
        found = row.first()
        return None if found is None else dict(found)

    @staticmethod
    def _unknown(
        conn: Connection,
        vid: int | None,
        volume: str,
        version: str | int,
        row: dict[str, Any] | None,
    ) -> VersionNotFound:
        if row is not None:
            return VersionNotFound(
                f"Version {version!r} of aligned volume {volume!r} was deleted by an admin "
                f"({shown(row['deleted'])}); use list_versions() to see the others."
            )
        names: list[str] = []
        if vid is not None:
            names = list(
                conn.execute(
                    sa.select(db.versions.c.name).where(
                        db.versions.c.aligned_volume_id == vid, db.versions.c.deleted.is_(None)
                    )
                ).scalars()
            )
        close = difflib.get_close_matches(str(version), names, n=3)
        hint = (
            f" Did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else " Use list_versions() to see them."
        )
        return VersionNotFound(f"Aligned volume {volume!r} has no version {version!r}.{hint}")

    def _version_dict(self, row: dict[str, Any], volume: str) -> dict[str, Any]:
        who = self.users.find(row["created_by"])
        return {
            "name": row["name"],
            "number": int(row["number"]),
            "description": row["description"],
            "timestamp": wire(row["timestamp"]),
            "created": db.iso(row["created"]),
            "created_by": row["created_by"],
            "created_by_name": who.name if who else row["created_by"],
            "aligned_volume": volume,
        }
