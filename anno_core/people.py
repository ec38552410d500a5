"""Managing people: what the People page and ``python -m anno_core users`` both do.

`People` is what a backend hands out (`Backend.people()`): the embedded engine checks every
call against the acting user (admins manage everyone; anyone may read their own profile
and reset their own token); a remote backend raises NotSupported, since people are managed
on the server's own machine.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class People(Protocol):
    """Users, groups and sign-in e-mail addresses, as the acting user may manage them."""

    def records(self) -> list[dict[str, Any]]:
        """Users (id, name, groups, is_admin, disabled, created, last_seen, emails): all
        of them for an admin, one's own for anyone else."""
        ...

    def add_user(
        self, name: str, groups: list[str] | tuple[str, ...] = (), admin: bool = False
    ) -> tuple[dict[str, Any], str]:
        """Create a user: (its record, its API token, shown this once)."""
        ...

    def reset_token(self, name: str) -> str:
        """A new API token for ``name`` (shown once); the old one stops working at once."""
        ...

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable a user (their token stops working; their rows stay theirs), or enable."""
        ...

    def set_admin(self, name: str, admin: bool) -> None:
        """Make a user an admin, or no longer one."""
        ...

    def groups(self) -> dict[str, list[str]]:
        """Every group with its members' names."""
        ...

    def add_group(self, name: str) -> None:
        """Create an empty group."""
        ...

    def remove_group(self, name: str) -> None:
        """Remove a group and its memberships."""
        ...

    def add_member(self, group: str, name: str) -> None:
        """Put a user in a group (made if it does not exist)."""
        ...

    def remove_member(self, group: str, name: str) -> None:
        """Take a user out of a group."""
        ...

    def link_email(self, name: str, email: str) -> None:
        """Let a sign-in with this verified e-mail address act as ``name``."""
        ...

    def unlink_email(self, email: str) -> None:
        """Forget a sign-in e-mail address."""
        ...

    def owned_tables(self, name: str) -> list[dict[str, Any]]:
        """The live tables ``name`` owns (aligned_volume, table_name)."""
        ...
