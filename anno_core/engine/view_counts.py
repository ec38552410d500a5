"""How many rows a view of a table holds: exact when cheap, else an estimate that says so.

"Cheap" means the count reads at most `COUNT_BUDGET` rows (or index entries):
- a view of the whole table: the counts the writes keep (reads nothing);
- a view narrowed to ids (at most 500): those rows;
- a table whose rows in view (live, or all) number at most `COUNT_BUDGET`;
- text filters on tag-like fields (indexed): the part of a value they match is looked up
  among the field's distinct values (at most `MAX_TAGS`, walked in the index), the filter
  becomes "one of these values", and if the index holds at most `COUNT_BUDGET` such rows
  they are counted.
Otherwise the count is an estimate: the share of matching rows among the sample (the
`ESTIMATE_SAMPLE` rows with the smallest sample keys, a uniform random sample), times the
rows in view. `Backend.count_rows` still counts exactly, whatever it costs, on request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.engine import db
from anno_core.engine.indexes import in_sample_index
from anno_core.engine.points import cut_level

COUNT_BUDGET = 100_000
"""Most rows (or index entries) an exact count of a filtered view may read."""
ESTIMATE_SAMPLE = 20_000
"""Rows of the sample an estimate looks at (the share's standard error is under 0.4 %)."""
MAX_TAGS = 1_000
"""Most distinct values a text field may have to count as tag-like."""


def _bounded(conn: Connection, q: sa.sql.Select, budget: int) -> int:
    """Rows of ``q``, counted up to ``budget + 1`` (reads no more than that)."""
    sub = q.with_only_columns(sa.literal(1)).limit(budget + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(sub)).scalar())


def tag_values(conn: Connection, column: sa.Column, part: str) -> list[str] | None:
    """The distinct values of ``column`` that contain ``part`` (as the view's filter
    matches them), walked in its index one value at a time; None when the column has more
    than MAX_TAGS values (it is not tag-like)."""
    first = sa.select(sa.func.min(column).label("v"), sa.literal(1).label("n"))
    walk = first.cte("tag_walk", recursive=True)
    nxt = sa.select(
        sa.select(sa.func.min(column)).where(column > walk.c.v).scalar_subquery(),
        walk.c.n + 1,
    ).where(walk.c.v.isnot(None), walk.c.n <= MAX_TAGS)
    walk = walk.union_all(nxt)
    values = [v for v in conn.execute(sa.select(walk.c.v)).scalars() if v is not None]
    if len(values) > MAX_TAGS:
        return None
    return list(
        conn.execute(
            sa.select(walk.c.v).where(
                walk.c.v.isnot(None), walk.c.v.contains(part, autoescape=True)
            )
        ).scalars()
    )


def count_view(
    conn: Connection,
    table: sa.Table,
    meta: dict[str, Any],
    narrow: Callable[[Any, dict[str, Any] | None], Any],
    *,
    include_invalid: bool,
    filters: dict[str, Any] | None,
    ids: list[int] | None,
) -> dict[str, Any]:
    """{"count", "exact", "sampled", "matched"} of the view; ``narrow(query, filters)``
    narrows a query to the view (validity, ids and the given filters)."""
    in_view = int(meta["total_count"] if include_invalid else meta["live_count"])
    exact = {"count": None, "exact": True, "sampled": None, "matched": None}
    if not filters and not ids:
        return {**exact, "count": in_view}
    count_q = sa.select(sa.func.count()).select_from(table)
    if ids or in_view <= COUNT_BUDGET:
        return {**exact, "count": int(conn.execute(narrow(count_q, filters)).scalar())}
    indexed, rest = _indexed(conn, table, filters or {})
    if (
        indexed is not None
        and _bounded(conn, narrow(sa.select(table.c.id), {}).where(*indexed), COUNT_BUDGET)
        <= COUNT_BUDGET
    ):
        q = narrow(count_q, rest).where(*indexed)
        return {**exact, "count": int(conn.execute(q).scalar())}
    return _estimate(conn, table, meta, narrow, include_invalid, filters)


def _indexed(
    conn: Connection, table: sa.Table, filters: dict[str, Any]
) -> tuple[list[Any] | None, dict[str, Any]]:
    """(conditions an index answers, the other filters), or (None, filters) when no
    filter is on a tag-like field."""
    indexed: list[Any] = []
    rest: dict[str, Any] = {}
    for col, val in filters.items():
        c = table.c[col] if col in table.c else None
        if c is not None and isinstance(val, str) and _has_index(table, col):
            values = tag_values(conn, c, val)
            if values is not None:
                indexed.append(c.in_(values))
                continue
        rest[col] = val
    return (indexed or None), rest


def _has_index(table: sa.Table, column: str) -> bool:
    return any(ix.columns.keys()[:1] == [column] for ix in table.indexes)


def _estimate(
    conn: Connection,
    table: sa.Table,
    meta: dict[str, Any],
    narrow: Callable[[Any, dict[str, Any] | None], Any],
    include_invalid: bool,
    filters: dict[str, Any] | None,
) -> dict[str, Any]:
    """The matching share of the sample, scaled to the rows in view (per validity)."""
    level = table.c[db.SAMPLE_COLUMN]
    live = int(meta["live_count"])
    parts = [(True, live)] + ([(False, int(meta["total_count"]) - live)] if include_invalid else [])
    estimate, sampled, matched = 0.0, 0, 0
    for valid, rows in parts:
        if rows <= 0:
            continue
        cut = cut_level(conn, table, valid, ESTIMATE_SAMPLE)
        # None: the index holds fewer rows than the sample wants; all it holds, then
        where = [table.c.valid == valid, in_sample_index(table)]
        where += [] if cut is None else [level >= cut]
        seen = sa.select(sa.func.count()).select_from(table).where(*where)
        hits = narrow(sa.select(sa.func.count()).select_from(table), filters).where(*where)
        n, m = int(conn.execute(seen).scalar()), int(conn.execute(hits).scalar())
        if n:
            estimate += m / n * rows
            sampled += n
            matched += m
    return {"count": int(round(estimate)), "exact": False, "sampled": sampled, "matched": matched}
