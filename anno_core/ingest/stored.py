"""What an earlier upload of a file stored, and what has become of those rows since.

`UploadRecord.of(backend answer)` turns `Backend.upload_record` into the sentence the Upload
page shows when the same file comes back (uploaded on DATE by WHO as ids A to B; how many
are still live, deleted or replaced) and the state of each stored id for the ids download.
Old ids are never presented as a new upload: the record always says when they were stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Result = list[int] | dict[int, int]


def id_span(ids: list[int]) -> str:
    """'id 4', 'ids 1 to 20', or 'ids 3 to 90 (not all between)'."""
    if not ids:
        return "no ids"
    if len(ids) == 1:
        return f"id {ids[0]:,}"
    low, high = min(ids), max(ids)
    gaps = "" if high - low + 1 == len(ids) else " (not all between)"
    return f"ids {low:,} to {high:,}{gaps}"


def _when(stamp: str | None) -> str:
    return "an unknown day" if not stamp else str(stamp)[:16].replace("T", " ")


@dataclass(frozen=True)
class UploadRecord:
    """One earlier upload: its result, when and by whom, and the state of its rows now."""

    result: Result
    created: str | None
    user_name: str | None
    live: int
    deleted: int
    replaced: int
    not_live: dict[int, int | None] = field(default_factory=dict)  # id -> newer id or None

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> UploadRecord:
        """A record from `Backend.upload_record`'s answer."""
        raw = answer["result"]
        result: Result = (
            {int(k): int(v) for k, v in raw.items()}
            if isinstance(raw, dict)
            else [int(i) for i in raw]
        )
        return cls(
            result=result,
            created=answer.get("created"),
            user_name=answer.get("user_name") or answer.get("user_id"),
            live=int(answer.get("live", 0)),
            deleted=int(answer.get("deleted", 0)),
            replaced=int(answer.get("replaced", 0)),
            not_live={
                int(i): None if s is None else int(s) for i, s in answer.get("not_live") or []
            },
        )

    @property
    def update(self) -> bool:
        return isinstance(self.result, dict)

    @property
    def ids(self) -> list[int]:
        """The ids it stored (for an update, the new versions' ids)."""
        return list(self.result.values()) if isinstance(self.result, dict) else self.result

    @property
    def rows(self) -> int:
        return len(self.ids)

    def state(self, annotation_id: int) -> str:
        """'live', 'deleted' or 'replaced by N' for one stored id."""
        if annotation_id not in self.not_live:
            return "live"
        newer = self.not_live[annotation_id]
        return "deleted" if newer is None else f"replaced by {newer}"

    def states(self) -> dict[int, str]:
        """The state of every stored id (for the ids download)."""
        return {i: self.state(i) for i in self.ids}

    def what_became(self) -> str:
        """'All 20 are still live.' / 'Of its 20 rows, 4 are still live, 15 deleted and 1
        replaced by a newer version.'"""
        n = self.rows
        if self.live == n:
            return "It is still live." if n == 1 else f"All {n:,} are still live."
        parts = [f"{self.live:,} {'is' if self.live == 1 else 'are'} still live"]
        if self.deleted:
            parts.append(f"{self.deleted:,} deleted")
        if self.replaced:
            parts.append(f"{self.replaced:,} replaced by a newer version")
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"Of its {n:,} row{'s' if n != 1 else ''}, {listed}."

    def short(self) -> str:
        """'on 2026-11-30 19:23 by ana, as ids 1 to 20'."""
        what = "new versions with " if self.update else ""
        who = self.user_name or "an unknown user"
        return f"on {_when(self.created)} by {who}, as {what}{id_span(self.ids)}"

    def sentence(self, table: str) -> str:
        """When, by whom, which ids, and what became of them, in two sentences."""
        verb = "updated" if self.update else "uploaded"
        return (
            f"This file was {verb} to table '{table}' {self.short()}; nothing was stored "
            f"again. {self.what_became()}"
        )
