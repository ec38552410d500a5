"""Who may read, write, edit the metadata of, and delete a table (enforced in the engine).

write: owner always; PUBLIC anyone; GROUP a user sharing a group with the owner; PRIVATE
nobody else. read: PUBLIC anyone; GROUP shared group; PRIVATE owner only. Metadata: owner.
Delete table: admins. Admins may do everything. The table list and metadata are public.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from anno_core.errors import PermissionDenied
from anno_core.identity import User

PERMISSIONS = ("PRIVATE", "GROUP", "PUBLIC")

PERMISSION_HELP = {
    "read": {
        "PRIVATE": "only the owner can read the annotations",
        "GROUP": "the owner and people who share a group with the owner can read",
        "PUBLIC": "everyone who can use this aligned volume can read",
    },
    "write": {
        "PRIVATE": "only the owner can add, change or delete annotations",
        "GROUP": "the owner and people who share a group with the owner can write",
        "PUBLIC": "everyone can write; every change is logged and nothing is ever lost",
    },
}


def _allowed(level: str, user: User, owner_id: str, owner_groups: frozenset[str]) -> bool:
    if user.is_admin or str(user.id) == str(owner_id):
        return True
    if level == "PUBLIC":
        return True
    if level == "GROUP":
        return bool(user.groups & owner_groups)
    return False


def can(
    action: str, user: User, meta: Mapping[str, Any], owner_groups: Callable[[str], frozenset[str]]
) -> bool:
    """Whether ``user`` may do ``action`` (read/write/metadata/delete) on table ``meta``."""
    owner = str(meta["user_id"])
    if action == "delete":
        return user.is_admin
    if action == "metadata":
        return user.is_admin or str(user.id) == owner
    level = meta["read_permission" if action == "read" else "write_permission"]
    if level == "PUBLIC" or user.is_admin or str(user.id) == owner:
        return True
    return _allowed(level, user, owner, owner_groups(owner))


def require(
    action: str, user: User, meta: Mapping[str, Any], owner_groups: Callable[[str], frozenset[str]]
) -> None:
    """Raise PermissionDenied with a sentence when ``user`` may not do ``action``."""
    if can(action, user, meta, owner_groups):
        return
    table = meta["table_name"]
    words = {
        "read": f"read the annotations of table '{table}' (its read permission is "
        f"{meta['read_permission']})",
        "write": f"change the annotations of table '{table}' (its write permission is "
        f"{meta['write_permission']})",
        "metadata": f"edit the metadata of table '{table}': only its owner can",
        "delete": f"delete table '{table}': only admins can",
    }
    raise PermissionDenied(
        f"User '{user.name}' may not {words[action]}; ask the table's owner or an admin."
    )
