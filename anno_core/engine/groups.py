"""Groups and their members, and the e-mail addresses that map a sign-in to a user.

A group exists on its own (``groups``), so one can be made before it has members; a
membership is a row of ``user_groups``. Mixed into `users.UserStore`.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from anno_core.engine import db
from anno_core.errors import Conflict, InvalidArgument, NotFound
from anno_core.identity import User
from anno_core.names import check_user_name

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_email(email: object) -> str:
    """An e-mail address, lower-cased, or a refusal."""
    if not isinstance(email, str) or len(email) > 320 or not EMAIL.fullmatch(email.strip()):
        raise InvalidArgument(f"{email!r} is not an e-mail address like name@lab.org.")
    return email.strip().lower()


class GroupsAndEmails:
    """Group and e-mail reads and writes (the store provides the engine and `get`)."""

    engine: Engine

    def get(self, name_or_id: str | int) -> User: ...  # provided by UserStore

    def _write(self) -> Connection: ...  # provided by UserStore

    # -- groups ------------------------------------------------------------------------
    @staticmethod
    def _ensure_group(conn: Connection, name: str) -> None:
        found = conn.execute(sa.select(db.groups.c.name).where(db.groups.c.name == name)).first()
        if found is None:
            conn.execute(db.groups.insert().values(name=name, created=db.now()))

    def groups(self) -> dict[str, list[str]]:
        """Every group with its members' names, sorted."""
        with self.engine.connect() as conn:
            out: dict[str, list[str]] = {
                g: [] for g in conn.execute(sa.select(db.groups.c.name)).scalars()
            }
            q = (
                sa.select(db.user_groups.c.group_name, db.users.c.name)
                .join(db.users, db.users.c.id == db.user_groups.c.user_id)
                .order_by(db.users.c.name)
            )
            for group, member in conn.execute(q):
                out.setdefault(group, []).append(member)
        return dict(sorted(out.items()))

    def add_group(self, name: str) -> None:
        """Create an empty group; Conflict if it exists."""
        check_user_name(name)
        with self._write() as conn, conn.begin():
            if conn.execute(sa.select(db.groups.c.name).where(db.groups.c.name == name)).first():
                raise Conflict(f"A group called {name!r} already exists.")
            conn.execute(db.groups.insert().values(name=name, created=db.now()))

    def remove_group(self, name: str) -> None:
        """Remove a group and its memberships (tables shared with it are no longer shared)."""
        with self._write() as conn, conn.begin():
            self._group_exists(conn, name)
            conn.execute(db.user_groups.delete().where(db.user_groups.c.group_name == name))
            conn.execute(db.groups.delete().where(db.groups.c.name == name))

    def _group_exists(self, conn: Connection, name: str) -> None:
        if conn.execute(sa.select(db.groups.c.name).where(db.groups.c.name == name)).first():
            return
        raise NotFound(f"There is no group {name!r}; create it first.")

    def add_member(self, group: str, user: str | int) -> User:
        """Put a user in a group (the group is made if it does not exist)."""
        check_user_name(group)
        who = self.get(user)
        with self._write() as conn, conn.begin():
            self._ensure_group(conn, group)
            there = conn.execute(
                sa.select(db.user_groups.c.user_id).where(
                    db.user_groups.c.user_id == who.id, db.user_groups.c.group_name == group
                )
            ).first()
            if there is None:
                conn.execute(db.user_groups.insert().values(user_id=who.id, group_name=group))
        return self.get(who.id)

    def remove_member(self, group: str, user: str | int) -> User:
        """Take a user out of a group; NotFound if they were not in it."""
        who = self.get(user)
        with self._write() as conn, conn.begin():
            gone = conn.execute(
                db.user_groups.delete().where(
                    db.user_groups.c.user_id == who.id, db.user_groups.c.group_name == group
                )
            ).rowcount
        if not gone:
            raise NotFound(f"{who.name!r} is not in group {group!r}.")
        return self.get(who.id)

    # -- e-mail addresses (OpenID Connect sign-in) ---------------------------------------
    def link_email(self, user: str | int, email: str) -> None:
        """Map a verified sign-in e-mail address to a user (one user per address)."""
        address = check_email(email)
        who = self.get(user)
        with self._write() as conn, conn.begin():
            owner = conn.execute(
                sa.select(db.user_emails.c.user_id).where(db.user_emails.c.email == address)
            ).scalar()
            if owner is not None and owner != who.id:
                raise Conflict(
                    f"{address} is already linked to another user; unlink it there first."
                )
            if owner is None:
                conn.execute(
                    db.user_emails.insert().values(email=address, user_id=who.id, created=db.now())
                )

    def unlink_email(self, email: str) -> None:
        """Forget an e-mail address; NotFound if no user has it."""
        address = check_email(email)
        with self._write() as conn, conn.begin():
            gone = conn.execute(
                db.user_emails.delete().where(db.user_emails.c.email == address)
            ).rowcount
        if not gone:
            raise NotFound(f"No user is linked to {address}.")

    def user_for_email(self, email: str) -> User | None:
        """The user an e-mail address is linked to, or None."""
        try:
            address = check_email(email)
        except InvalidArgument:
            return None
        with self.engine.connect() as conn:
            uid = conn.execute(
                sa.select(db.user_emails.c.user_id).where(db.user_emails.c.email == address)
            ).scalar()
        return None if uid is None else self.get(int(uid))

    def owned_tables(self, user: str | int) -> list[dict[str, Any]]:
        """The live tables a user owns, in every volume: volume, table_name."""
        who = self.get(user)
        tm, av = db.tables_meta, db.aligned_volumes
        q = (
            sa.select(av.c.name, tm.c.table_name)
            .join(av, av.c.id == tm.c.aligned_volume_id)
            .where(tm.c.user_id == str(who.id), tm.c.deleted.is_(None))
            .order_by(av.c.name, tm.c.table_name)
        )
        with self.engine.connect() as conn:
            return [{"aligned_volume": v, "table_name": t} for v, t in conn.execute(q)]
