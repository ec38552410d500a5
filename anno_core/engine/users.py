"""Users, groups, admin flags and API tokens (stored as SHA-256 hashes only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from anno_core.engine import db
from anno_core.errors import Conflict, NotAuthenticated, UserNotFound
from anno_core.identity import User
from anno_core.names import check_user_name

DEFAULT_ADMIN = "admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """Reads and writes the users of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        token = secrets.token_urlsafe(32)
        try:
            return self._add(name, groups, admin, token), token
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"A user called {name!r} already exists; choose another name.") from exc

    def _add(self, name: str, groups, admin: bool, token: str) -> User:  # type: ignore[no-untyped-def]
        with self.engine.connect().execution_options(anno_write=True) as conn, conn.begin():
            exists = conn.execute(sa.select(db.users.c.id).where(db.users.c.name == name)).first()
            if exists:
                raise Conflict(f"A user called {name!r} already exists; choose another name.")
            uid = conn.execute(
                db.users.insert().values(
                    name=name, is_admin=bool(admin), token_hash=hash_token(token), created=db.now()
                )
            ).inserted_primary_key[0]
            for g in sorted(set(groups)):
                check_user_name(g)
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

    def authenticate(self, token: str | None) -> User:
        """The user owning ``token``; compares hashes in constant time."""
        if not token:
            raise NotAuthenticated(
                "No API token was sent; send 'Authorization: Bearer <token>' with a token "
                "from 'python -m anno_core users add'."
            )
        wanted = hash_token(token)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(db.users.c.id, db.users.c.token_hash)).all()
        match = None
        for uid, stored in rows:
            if stored and hmac.compare_digest(stored, wanted):
                match = uid
        if match is None:
            raise NotAuthenticated("The API token is not valid; ask an admin for a new one.")
        return self.get(int(match))
