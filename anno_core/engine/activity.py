"""Reading the audit log a page at a time, only what the acting user may read.

The permission rule (`permissions.can("read")`) is repeated here as SQL so that the
database filters and pages: an entry shows when its table is PUBLIC, the reader owns it,
it is GROUP and the owner shares a group with the reader, or the reader is an admin.
Pages are keyset pages on the entry id, newest first: a page costs the same anywhere in
a log of any length.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from anno_core.activity import LINK_IDS, check_kind, check_page, parse_day
from anno_core.engine import db


def _count(runs: list[list[int]]) -> int:
    return sum(b - a + 1 for a, b in runs)


def _first_ids(runs: list[list[int]]) -> list[int]:
    out: list[int] = []
    for a, b in runs:
        out.extend(range(a, min(b, a + LINK_IDS - len(out) - 1) + 1))
        if len(out) >= LINK_IDS:
            break
    return out


def _detail(text: str | None) -> Any:
    """An entry's detail with id runs replaced by their counts (an entry stays small)."""
    detail = json.loads(text) if text else None
    if isinstance(detail, dict) and isinstance(detail.get("replaced"), list):
        detail = dict(detail, replaced=_count(detail["replaced"]))
    return detail


class ActivityLog:
    """`Backend.activity` on the embedded engine (mixed in with the audit log)."""

    engine: Any
    user: Any

    def _readable(self) -> Any:
        """The SQL condition: the acting user may read the entry's table."""
        tm = db.tables_meta
        me = self.user
        ok = [tm.c.read_permission == "PUBLIC", tm.c.user_id == str(me.id)]
        if me.groups:
            sharing = (
                sa.select(sa.cast(db.user_groups.c.user_id, sa.String))
                .where(db.user_groups.c.group_name.in_(sorted(me.groups)))
                .scalar_subquery()
            )
            ok.append(sa.and_(tm.c.read_permission == "GROUP", tm.c.user_id.in_(sharing)))
        return sa.or_(*ok)

    def activity(
        self,
        volume: str,
        *,
        table: str | None = None,
        user: str | None = None,
        kind: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 50,
        before: int | None = None,
    ) -> dict[str, Any]:
        """One page of ``volume``'s audit log, newest first: {"entries", "next"}."""
        limit, before = check_page(limit, before)
        kind = check_kind(kind)
        start, end = parse_day(since, "since"), parse_day(until, "until", end=True)
        log, tm, av, users = db.audit_log, db.tables_meta, db.aligned_volumes, db.users
        joined = log.outerjoin(av, av.c.name == log.c.aligned_volume).outerjoin(
            tm, sa.and_(tm.c.aligned_volume_id == av.c.id, tm.c.table_name == log.c.table_name)
        )
        joined = joined.outerjoin(users, sa.cast(users.c.id, sa.String) == log.c.user_id)
        q = sa.select(log, users.c.name.label("user_name")).select_from(joined)
        q = q.where(log.c.aligned_volume == volume)
        if not self.user.is_admin:
            q = q.where(self._readable())
        if table:
            q = q.where(log.c.table_name == table)
        if user:
            found = self.users.find(user)  # type: ignore[attr-defined]
            q = q.where(log.c.user_id == (str(found.id) if found else "-"))
        if kind:
            q = q.where(log.c.action == kind)
        if start is not None:
            q = q.where(log.c.at >= start)
        if end is not None:
            q = q.where(log.c.at < end)
        if before is not None:
            q = q.where(log.c.id < before)
        q = q.order_by(log.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            found_rows = conn.execute(q).mappings().all()
        entries = [self._entry(r) for r in found_rows[:limit]]
        more = len(found_rows) > limit
        return {"entries": entries, "next": entries[-1]["id"] if more else None}

    @staticmethod
    def _entry(r: Any) -> dict[str, Any]:
        runs = json.loads(r["ids"]) if r["ids"] else []
        return {
            "id": r["id"],
            "at": db.iso(r["at"]),
            "user": r["user_name"] or r["user_id"],
            "action": r["action"],
            "table": r["table_name"],
            "count": _count(runs),
            "ids": _first_ids(runs),
            "detail": _detail(r["detail"]),
        }
