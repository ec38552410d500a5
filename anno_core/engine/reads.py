"""The embedded engine, part 2: reading rows (counts, pages, ids, history, points).

A mixin of `LocalTables`, which gives it ``meta``, ``require``, ``table_of``, ``engine`` and
``users``. Every read checks the read permission first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from anno_core.arguments import page_anchor, query_ids, sample_size
from anno_core.common import CHUNK
from anno_core.engine import counts, db
from anno_core.engine.columnar import kind_of
from anno_core.engine.points import MAX_SAMPLE, read_sample
from anno_core.engine.view_counts import count_view
from anno_core.errors import AnnotationNotFound, InvalidArgument
from anno_core.moments import parse_moment, shown
from anno_core.schemas import SchemaSpec


def _num(v: float | None) -> float | int | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v) if float(v).is_integer() else float(v)


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def as_of(t: sa.Table, at: datetime | None, include_invalid: bool = False) -> list[Any]:
    """The one condition of "the rows as they were at ``at``" (None: now).

    A row existed at ``at`` if it was created at or before it; it was live then unless it
    was deleted or superseded at or before it (an update stamps the old row's ``deleted``
    and the new row's ``created`` with the same instant, so exactly one of them is live at
    any moment). ``include_invalid`` keeps the rows deleted or superseded by then."""
    if at is None:
        return [] if include_invalid else [t.c.valid]
    cond = [t.c.created <= at]
    if not include_invalid:
        cond.append(sa.or_(t.c.deleted.is_(None), t.c.deleted > at))
    return cond


def columns_at(t: sa.Table, at: datetime | None) -> list[Any]:
    """Every column of ``t`` as it read at ``at``: a row deleted or superseded later shows
    as it was then (live, no ``deleted``, no ``superceded_id``)."""
    if at is None:
        return list(t.c)
    gone = sa.and_(t.c.deleted.isnot(None), t.c.deleted <= at)
    then = {
        "deleted": sa.case((gone, t.c.deleted), else_=sa.null()),
        "superceded_id": sa.case((gone, t.c.superceded_id), else_=sa.null()),
        "deleted_by": sa.case((gone, t.c.deleted_by), else_=sa.null()),
        "valid": sa.case((gone, sa.false()), else_=sa.true()),
    }
    return [then[c.name].label(c.name) if c.name in then else c for c in t.c]


def before_created(meta: dict[str, Any], table: str, at: datetime | None) -> str | None:
    """The sentence saying a table did not exist yet at ``at`` (its rows are none), or None."""
    if at is None or at >= meta["created"]:
        return None
    return (
        f"Table {table!r} was created at {shown(meta['created'])}, after {shown(at)}: "
        "it had no rows at that moment."
    )


class LocalReads:
    """Row reads of the embedded engine (mixed into LocalTables)."""

    # Provided by LocalTables; declared for readers and type checkers.
    engine: Any
    users: Any
    meta: Any
    require: Any
    table_of: Any
    public_meta: Any

    @staticmethod
    def check_moment(timestamp: Any) -> datetime | None:
        """A moment to read at (naive UTC), refused when it has not come yet."""
        at = parse_moment(timestamp)
        if at is not None:
            now = db.now()
            if at > now:
                raise InvalidArgument(
                    f"The moment {shown(at)} is in the future (it is {shown(now)} now); "
                    "give a moment that has passed, or none for the live rows."
                )
        return at

    def get_annotation_count(self, volume: str, table: str, live_only: bool = False) -> int:
        """Rows of a table (live ones with ``live_only``): the counts the writes keep."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        return int(meta["live_count"] if live_only else meta["total_count"])

    def _fetch(self, conn: Connection, t: sa.Table, ids: Sequence[int]) -> list[dict]:
        rows: list[dict] = []
        for part in chunks(list(ids)):
            rows.extend(
                dict(r) for r in conn.execute(sa.select(t).where(t.c.id.in_(part))).mappings()
            )
        return rows

    @staticmethod
    def row_to_record(spec: SchemaSpec, row: dict[str, Any]) -> dict[str, Any]:
        """A stored row as CAVE's flat dict: points as [x, y, z], times as ISO strings."""
        out: dict[str, Any] = {
            "id": int(row["id"]),
            "created": db.iso(row["created"]),
            "deleted": db.iso(row["deleted"]),
            "superceded_id": None if row["superceded_id"] is None else int(row["superceded_id"]),
            "valid": bool(row["valid"]),
        }
        for f in spec.data_fields:
            if f.kind == "point":
                vals = [row[c] for c in f.storage_columns]
                out[f.column] = None if all(v is None for v in vals) else [_num(v) for v in vals]
            else:
                v = row[f.column]
                out[f.column] = bool(v) if f.kind == "bool" and v is not None else v
        return out

    def get_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[dict]:
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, spec = self.table_of(meta)
        with self.engine.connect() as conn:
            rows = {int(r["id"]): r for r in self._fetch(conn, t, ids)}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise AnnotationNotFound(
                f"Table {table!r} has no annotation with id "
                f"{', '.join(map(str, missing[:20]))}{' ...' if len(missing) > 20 else ''}; "
                "check the ids."
            )
        return [self.row_to_record(spec, rows[i]) for i in ids]

    @staticmethod
    def _where(
        q: Any,
        t: sa.Table,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
    ) -> Any:
        """``q`` narrowed to the rows a query or a count of the same view covers (as they
        were at ``timestamp``, if one is given)."""
        for cond in as_of(t, timestamp, include_invalid):
            q = q.where(cond)
        wanted = query_ids(ids)
        if wanted is not None:
            q = q.where(t.c.id.in_(wanted))
        for col, val in (filters or {}).items():
            if col not in t.c:
                raise InvalidArgument(
                    f"Table {table!r} has no column {col!r}; filter on one of "
                    + ", ".join(c.name for c in t.c)
                    + "."
                )
            if isinstance(val, str) and t.c[col].type.python_type is str:
                q = q.where(t.c[col].contains(val, autoescape=True))
            else:
                q = q.where(t.c[col] == val)
        return q

    def query(
        self,
        volume: str,
        table: str,
        *,
        limit: int = 1000,
        offset: int = 0,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
        after_id: int | None = None,
    ) -> pd.DataFrame:
        """One page of rows as a flat frame (points as _x/_y/_z columns), newest id last:
        the rows after id ``after_id`` (found in the key's index, at any depth), then
        ``offset`` more skipped; with ``timestamp``, the rows as they were then
        (``attrs["notice"]`` says when the table did not exist yet)."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        at = self.check_moment(timestamp)
        t, spec = self.table_of(meta)
        q = self._where(sa.select(*columns_at(t, at)), t, table, include_invalid, filters, ids, at)
        after = page_anchor(after_id)
        if after is not None:
            q = q.where(t.c.id > after)
        q = q.order_by(t.c.id).limit(int(limit)).offset(int(offset))
        with self.engine.connect() as conn:
            res = conn.execute(q)
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        for c in ("created", "deleted"):
            frame[c] = pd.to_datetime(frame[c])
        notice = before_created(meta, table, at)
        if notice:
            frame.attrs["notice"] = notice
        return frame

    def count_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
        timestamp: datetime | None = None,
    ) -> int:
        """How many rows `query` pages through with the same arguments (exactly)."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        at = self.check_moment(timestamp)
        t, _ = self.table_of(meta)
        if not filters and not ids and at is None:  # the whole table: the writes' counts
            return int(meta["total_count"] if include_invalid else meta["live_count"])
        with self.engine.connect() as conn:
            if not filters and not ids:  # the whole table at a moment: its count log
                return counts.count_at(conn, meta["id"], at, include_invalid)
            q = sa.select(sa.func.count()).select_from(t)
            q = self._where(q, t, table, include_invalid, filters, ids, at)
            return int(conn.execute(q).scalar())

    def estimate_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """How many rows `query` pages through: exact when cheap, else an estimate from the
        sample (engine/view_counts.py): {"count", "exact", "sampled", "matched"}."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, _ = self.table_of(meta)
        wanted = query_ids(ids)

        def narrow(q: Any, only: dict[str, Any] | None) -> Any:
            return self._where(q, t, table, include_invalid, only, wanted)

        self._where(sa.select(t.c.id), t, table, include_invalid, filters, wanted)  # checks
        with self.engine.connect() as conn:
            return count_view(
                conn,
                t,
                meta,
                narrow,
                include_invalid=include_invalid,
                filters=filters,
                ids=wanted,
            )

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        """Every version of one annotation, oldest first, following superceded_id."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, spec = self.table_of(meta)
        with self.engine.connect() as conn:
            first = self._fetch(conn, t, [int(annotation_id)])
            if not first:
                raise AnnotationNotFound(
                    f"Table {table!r} has no annotation with id {annotation_id}."
                )
            chain = [first[0]]
            while True:  # walk back to the oldest version
                prev = (
                    conn.execute(sa.select(t).where(t.c.superceded_id == chain[0]["id"]))
                    .mappings()
                    .first()
                )
                if prev is None:
                    break
                chain.insert(0, dict(prev))
            while chain[-1]["superceded_id"] is not None:
                nxt = self._fetch(conn, t, [int(chain[-1]["superceded_id"])])
                if not nxt:
                    break
                chain.append(nxt[0])
        out = []
        for row in chain:
            rec = self.row_to_record(spec, row)
            for role in ("created_by", "deleted_by"):
                rec[role] = row.get(role)
                who = self.users.find(row[role]) if row.get(role) else None
                rec[f"{role}_name"] = who.name if who else rec[role]
            out.append(rec)
        return out

    def point_frame(
        self,
        volume: str,
        table: str,
        include_invalid: bool = False,
        limit: int = MAX_SAMPLE,
        columns: Sequence[str] | None = None,
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """The id and point columns (and ``columns``) of the ``limit`` live rows (or rows)
        with the smallest sample keys, in key order: a fixed uniform sample, read by the
        database alone."""
        n = sample_size(limit)
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, spec = self.table_of(meta)
        kinds = {"id": "int", **{c: "float" for f in spec.point_fields for c in f.storage_columns}}
        for c in columns or ():
            if c not in spec.storage_columns:
                raise InvalidArgument(
                    f"Table {table!r} has no column {c!r} to send with its points; choose "
                    f"from {', '.join(spec.storage_columns)}."
                )
            kinds.setdefault(c, kind_of(t.c[c]))
        with self.engine.connect() as conn:
            counts = (int(meta["live_count"]), int(meta["total_count"]))
            frame = read_sample(conn, t, kinds, counts, n, live_only=not include_invalid)
        return frame, spec, self.public_meta(meta)
