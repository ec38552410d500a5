"""The embedded engine's `People`: user management checked against the acting user."""

from __future__ import annotations

from typing import Any

from anno_core.engine.users import UserStore
from anno_core.errors import InvalidArgument, PermissionDenied
from anno_core.identity import User


class LocalPeople:
    """Admins manage everyone; anyone may read their own profile and reset their token."""

    def __init__(self, store: UserStore, acting: User) -> None:
        self.store = store
        self.acting = acting

    def _admin(self, what: str) -> None:
        if not self.acting.is_admin:
            raise PermissionDenied(
                f"User '{self.acting.name}' may not {what}: only admins can; ask an admin."
            )

    def _self_or_admin(self, name: str, what: str) -> None:
        if self.acting.is_admin or self.store.get(name).id == self.acting.id:
            return
        raise PermissionDenied(
            f"User '{self.acting.name}' may not {what} of another user; ask an admin."
        )

    def records(self) -> list[dict[str, Any]]:
        """Every user for an admin; one's own record otherwise."""
        rows = self.store.records()
        return rows if self.acting.is_admin else [r for r in rows if r["id"] == self.acting.id]

    def add_user(
        self, name: str, groups: list[str] | tuple[str, ...] = (), admin: bool = False
    ) -> tuple[dict[str, Any], str]:
        """Create a user: (its record, its token, shown once)."""
        self._admin("add users")
        user, token = self.store.add(name, list(groups), admin)
        return user.to_dict(), token

    def reset_token(self, name: str) -> str:
        """A new token for ``name`` (admins, or the user themself)."""
        self._self_or_admin(name, "reset the token")
        return self.store.reset_token(name)

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable or enable a user (admins; never oneself, so an admin cannot lock all out)."""
        self._admin("disable users")
        if disabled and self.store.get(name).id == self.acting.id:
            raise InvalidArgument("You cannot disable yourself; another admin can.")
        self.store.set_disabled(name, disabled)

    def set_admin(self, name: str, admin: bool) -> None:
        """Grant or take away the admin flag (admins; never one's own)."""
        self._admin("change who is an admin")
        if not admin and self.store.get(name).id == self.acting.id:
            raise InvalidArgument("You cannot take away your own admin flag; another admin can.")
        self.store.set_admin(name, admin)

    def groups(self) -> dict[str, list[str]]:
        """Every group with its members (admins)."""
        self._admin("list every group")
        return self.store.groups()

    def add_group(self, name: str) -> None:
        self._admin("create groups")
        self.store.add_group(name)

    def remove_group(self, name: str) -> None:
        self._admin("remove groups")
        self.store.remove_group(name)

    def add_member(self, group: str, name: str) -> None:
        self._admin("change group members")
        self.store.add_member(group, name)

    def remove_member(self, group: str, name: str) -> None:
        self._admin("change group members")
        self.store.remove_member(group, name)

    def link_email(self, name: str, email: str) -> None:
        self._admin("link sign-in e-mail addresses")
        self.store.link_email(name, email)

    def unlink_email(self, email: str) -> None:
        self._admin("unlink sign-in e-mail addresses")
        self.store.unlink_email(email)

    def owned_tables(self, name: str) -> list[dict[str, Any]]:
        """The tables ``name`` owns (admins, or the user themself)."""
        self._self_or_admin(name, "list the tables")
        return self.store.owned_tables(name)
