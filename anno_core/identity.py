"""Who acts: the User every backend, permission rule and page speaks of (no storage here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """The acting user: id (stored as table owner), name, groups, admin flag."""

    id: int
    name: str
    groups: frozenset[str]
    is_admin: bool

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "groups": sorted(self.groups),
            "is_admin": self.is_admin,
        }
