"""Users, admin flags, disabled flags and API tokens (stored as SHA-256 hashes only).

Groups and the e-mail addresses an OpenID Connect sign-in maps to a user are in
`groups.GroupsAndEmails`, mixed into `UserStore`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anno_core.engine import db
from anno_core.engine.groups import GroupsAndEmails
from anno_core.errors import Conflict, NotAuthenticated, UserNotFound
from anno_core.identity import User
from anno_core.names import check_user_name

DEFAULT_ADMIN = "admin"
SEEN_EVERY = timedelta(seconds=60)
"""`last_seen` is written at most this often per user (a write per request would queue
every reader of a busy server behind the database's writer lock)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh API token (shown once; only its hash is stored)."""
    return secrets.token_urlsafe(32)


class UserStore(GroupsAndEmails):
    """Reads and writes the users of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _write(self):  # type: ignore[no-untyped-def]
        return self.engine.connect().execution_options(anno_write=True)

    def _load(self, conn, where) -> User | None:  # type: ignore[no-untyped-def]
        row = conn.execute(sa.select(db.users).where(where)).mappings().first()
        if row is None:
            return None
        groups = (
            conn.execute(
                sa.select(db.user_groups.c.group_name).where(db.user_groups.c.user_id == row["id"])
            )
            .scalars()
            .all()
        )
        return User(row["id"], row["name"], frozenset(groups), bool(row["is_admin"]))

    def get(self, name_or_id: str | int) -> User:
        """The user with this name or numeric id; raises UserNotFound."""
        with self.engine.connect() as conn:
            user = None
            if isinstance(name_or_id, int) or (
                isinstance(name_or_id, str) and name_or_id.isascii() and name_or_id.isdigit()
            ):
                number = int(name_or_id) if len(str(name_or_id)) < 19 else 0  # 64-bit ids only
                user = self._load(conn, db.users.c.id == number) if number > 0 else None
            if user is None and isinstance(name_or_id, str):
                user = self._load(conn, db.users.c.name == name_or_id)
        if user is None:
            raise UserNotFound(
                f"There is no user {name_or_id!r}; add one with "
                "'python -m anno_core users add NAME'."
            )
        return user

    def find(self, name_or_id: str | int) -> User | None:
        try:
            return self.get(name_or_id)
        except UserNotFound:
            return None

    def add(
        self, name: str, groups: list[str] | tuple[str, ...] = (), admin: bool = False
    ) -> tuple[User, str]:
        """Create a user and return it with a new API token (shown once, stored hashed)."""
        check_user_name(name)
        for g in groups:
            check_user_name(g)
        token = new_token()
        try:
            return self._add(name, groups, admin, token), token
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"A user called {name!r} already exists; choose another name.") from exc

    def _add(self, name: str, groups, admin: bool, token: str) -> User:  # type: ignore[no-untyped-def]
        with self._write() as conn, conn.begin():
            exists = conn.execute(sa.select(db.users.c.id).where(db.users.c.name == name)).first()
            if exists:
                raise Conflict(f"A user called {name!r} already exists; choose another name.")
            uid = conn.execute(
                db.users.insert().values(
                    name=name, is_admin=bool(admin), token_hash=hash_token(token), created=db.now()
                )
            ).inserted_primary_key[0]
            for g in sorted(set(groups)):
                self._ensure_group(conn, g)
                conn.execute(db.user_groups.insert().values(user_id=uid, group_name=g))
        return self.get(int(uid))

    def ensure_default_admin(self) -> User:
        """The built-in local admin, created on first use."""
        user = self.find(DEFAULT_ADMIN)
        if user is not None:
            return user
        try:
            return self.add(DEFAULT_ADMIN, admin=True)[0]
        except Conflict:  # another thread created it first
            return self.get(DEFAULT_ADMIN)

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(db.users.c.id).order_by(db.users.c.id)).scalars().all()
        return [self.get(int(i)) for i in ids]

    def records(self) -> list[dict[str, Any]]:
        """Every user as the People page lists them: id, name, groups, is_admin, disabled,
        created, last_seen, emails (three queries, whatever the number of users)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(db.users).order_by(db.users.c.id)).mappings().all()
            groups: dict[int, list[str]] = {}
            for uid, g in conn.execute(
                sa.select(db.user_groups.c.user_id, db.user_groups.c.group_name).order_by(
                    db.user_groups.c.group_name
                )
            ):
                groups.setdefault(uid, []).append(g)
            emails: dict[int, list[str]] = {}
            for uid, e in conn.execute(
                sa.select(db.user_emails.c.user_id, db.user_emails.c.email).order_by(
                    db.user_emails.c.email
                )
            ):
                emails.setdefault(uid, []).append(e)
        return [
            {
                "id": r["id"],
                "name": r["name"],
                "groups": groups.get(r["id"], []),
                "is_admin": bool(r["is_admin"]),
                "disabled": bool(r["disabled"]),
                "created": db.iso(r["created"]),
                "last_seen": db.iso(r["last_seen"]),
                "emails": emails.get(r["id"], []),
            }
            for r in rows
        ]

    def is_disabled(self, name_or_id: str | int) -> bool:
        """Whether the user is disabled (their token works nowhere)."""
        user = self.get(name_or_id)
        with self.engine.connect() as conn:
            flag = conn.execute(
                sa.select(db.users.c.disabled).where(db.users.c.id == user.id)
            ).scalar()
        return bool(flag)

    def authenticate(self, token: str | None) -> User:
        """The user owning ``token``, unless disabled; compares hashes in constant time."""
        if not token:
            raise NotAuthenticated(
                "No API token was sent; send 'Authorization: Bearer <token>' with a token "
                "from 'python -m anno_core users add'."
            )
        wanted = hash_token(token)
        u = db.users.c
        with self.engine.connect() as conn:
            # The lookup is by the hash of the secret (an index), never by the secret
            # itself; the final comparison is constant-time all the same.
            row = conn.execute(
                sa.select(u.id, u.token_hash, u.disabled, u.last_seen).where(u.token_hash == wanted)
            ).first()
        if row is None or not row.token_hash or not hmac.compare_digest(row.token_hash, wanted):
            raise NotAuthenticated("The API token is not valid; ask an admin for a new one.")
        if row.disabled:
            raise NotAuthenticated(
                "This user is disabled, so its API token no longer works; ask an admin."
            )
        self._seen(int(row.id), row.last_seen)
        return self.get(int(row.id))

    def _seen(self, uid: int, last: Any) -> None:
        """Note when a user was last seen, best effort: while a long upload holds a SQLite
        database, a sign-in must not wait for it, so the note waits for a later request."""
        stamp = db.now()
        if last is not None and stamp - last < SEEN_EVERY:
            return
        update = db.users.update().where(db.users.c.id == uid).values(last_seen=stamp)
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                before = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
                conn.exec_driver_sql("PRAGMA busy_timeout = 100")
            try:
                with conn.begin():
                    conn.execute(update)
            except sa.exc.OperationalError:
                if not sqlite:
                    raise
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(before)}")

    def reset_token(self, name_or_id: str | int) -> str:
        """A new API token for the user (shown once); the old one stops working at once."""
        user = self.get(name_or_id)
        token = new_token()
        with self._write() as conn, conn.begin():
            conn.execute(
                db.users.update()
                .where(db.users.c.id == user.id)
                .values(token_hash=hash_token(token))
            )
        return token

    def set_disabled(self, name_or_id: str | int, disabled: bool) -> User:
        """Disable (or enable again) a user; their tables and rows stay theirs."""
        user = self.get(name_or_id)
        with self._write() as conn, conn.begin():
            conn.execute(
                db.users.update().where(db.users.c.id == user.id).values(disabled=bool(disabled))
            )
        return user

    def set_admin(self, name_or_id: str | int, admin: bool) -> User:
        """Make a user an admin, or no longer one."""
        user = self.get(name_or_id)
        with self._write() as conn, conn.begin():
            conn.execute(
                db.users.update().where(db.users.c.id == user.id).values(is_admin=bool(admin))
            )
        return self.get(user.id)
