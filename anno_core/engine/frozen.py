"""Reads as CAVE's materialization service answers them: a table (or a reference table joined
to its target) as it was at a version, filtered, as Arrow.

What our server's MaterializationEngine routes (`server.materialize_routes`) need: the rows
live at the version's moment (`reads.as_of`), shown as they were then (valid, not
superseded), with CAVE's filters (in, not in, equal, greater/less, regex, a spatial box on a
point) and its column naming: ``id, created, superceded_id, valid``, then the schema's
fields, a point as ``{field}_x/_y/_z``; in a join, a column name both tables have gets the
table's suffix (``pt_position_ref_x``). Positions are scaled to a desired resolution.
Root and supervoxel ids are absent: no segmentation is bound.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from anno_core.engine import counts
from anno_core.engine.reads import as_of, columns_at
from anno_core.errors import InvalidArgument, TableNotFound
from anno_core.export.layout import bools, times
from anno_core.moments import shown
from anno_core.schemas import AXES

BASE = ("id", "created", "superceded_id", "valid")
COMPARE = {
    "in": lambda c, v: c.in_(_values(v)),
    "notin": lambda c, v: c.not_in(_values(v)),
    "equal": lambda c, v: c == v,
    "greater": lambda c, v: c > v,
    "less": lambda c, v: c < v,
    "greater_equal": lambda c, v: c >= v,
    "less_equal": lambda c, v: c <= v,
    "regex": lambda c, v: c.regexp_match(str(v)),
}


@dataclass
class FrozenPart:
    """One table of a query: its filters ``(kind, column, value)``, the columns wanted
    (base names; None: all) and its suffix in a join."""

    table: str
    filters: list[tuple[str, str, Any]] = field(default_factory=list)
    select: list[str] | None = None
    suffix: str = ""


class LocalFrozen:
    """Materialization-style reads of the embedded engine (mixed into LocalBackend)."""

    # Provided by the backend this is mixed into.
    engine: Any
    require: Any
    table_of: Any
    tables_at: Any

    def frozen_meta(self, volume: str, table: str, at: datetime, label: str) -> dict[str, Any]:
        """The metadata of ``table`` if it existed at ``at`` (``label`` names the moment)."""
        for meta in self.tables_at(volume, at):
            if meta["table_name"] == table:
                return meta
        raise TableNotFound(
            f"Table {table!r} did not exist at {label} ({shown(at)}) in {volume!r}; "
            "list the tables of that version with get_tables(version=...)."
        )

    def frozen_query(
        self,
        volume: str,
        at: datetime,
        label: str,
        parts: list[FrozenPart],
        join: tuple[str, str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        resolution: tuple[float, float, float] | None = None,
        count: bool = False,
    ) -> pa.Table:
        """The rows of ``parts`` (one table, or two joined on ``join`` = (main column,
        other column)) as they were at ``at``, as an Arrow table."""
        tables = []
        for part in parts:
            meta = self.frozen_meta(volume, part.table, at, label)
            self.require("read", meta)
            t, spec = self.table_of(meta)
            tables.append((part, meta, t, spec))
        cols_of = [_columns(spec) for _, _, _, spec in tables]
        if len(parts) > 1:
            t2 = tables[1][2].alias("joined")
            tables[1] = (tables[1][0], tables[1][1], t2, tables[1][3])
        names = [p.select or list(c) for p, c in zip(parts, cols_of, strict=True)]
        for part, cols, wanted in zip(parts, cols_of, names, strict=True):
            unknown = [c for c in wanted if c not in cols]
            if unknown:
                raise InvalidArgument(
                    f"Table {part.table!r} has no column {unknown[0]!r}; choose from "
                    f"{', '.join(cols)}."
                )
        repeated = {n for n, k in Counter(n for w in names for n in w).items() if k > 1}
        select: list[Any] = []
        where: list[Any] = []
        for (part, meta, t, _spec), cols, wanted in zip(tables, cols_of, names, strict=True):
            then = {c.name: c for c in columns_at(t, at)}
            ratio = _ratio(meta, resolution)
            suffix = part.suffix if len(parts) > 1 else ""
            for name in wanted:
                label_ = name + suffix if name in repeated else name
                if cols[name] == "point":
                    for i, a in enumerate(AXES):
                        expr = then[f"{name}_{a}"]
                        if ratio[i] != 1:
                            expr = expr * ratio[i]
                        select.append(expr.label(f"{label_}_{a}"))
                else:
                    select.append(then[name].label(label_))
            where += as_of(t, at)
            for kind, column, value in part.filters:
                where.append(_condition(part.table, then, cols, kind, column, value))
        if count and len(parts) == 1 and not parts[0].filters:  # a whole table: its count log
            with self.engine.connect() as conn:
                n = counts.count_at(conn, tables[0][1]["id"], at)
            return pa.table({"count": pa.array([n], type=pa.int64())})
        main = tables[0][2]
        q = sa.select(*select).select_from(main)
        if len(parts) > 1:
            assert join is not None
            other = tables[1][2]
            q = sa.select(*select).select_from(
                main.join(other, main.c[join[0]] == other.c[join[1]])
            )
        q = q.where(*where)
        with self.engine.connect() as conn:
            if count:
                n = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar()
                return pa.table({"count": pa.array([int(n)], type=pa.int64())})
            q = q.order_by(main.c.id).offset(int(offset))
            if limit is not None:
                q = q.limit(int(limit))
            res = conn.execute(q)
            keys = list(res.keys())
            rows = res.cursor.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in keys]
        kinds = _kinds(tables, names, repeated, len(parts) > 1)
        return pa.table({k: _arrow(kinds[k], v) for k, v in zip(keys, columns, strict=True)})


def _columns(spec: Any) -> dict[str, str]:
    """Base column names (a point by its field name) -> kind, in CAVE's order."""
    out = {"id": "int", "created": "time", "superceded_id": "int", "valid": "bool"}
    for f in spec.data_fields:
        out[f.column] = f.kind if f.kind in ("point", "float", "bool", "str") else "int"
    return out


def _kinds(tables: list, names: list, repeated: set, joined: bool) -> dict[str, str]:
    """Output column name -> kind, for turning driver values into Arrow."""
    out: dict[str, str] = {}
    for (part, _m, _t, spec), wanted in zip(tables, names, strict=True):
        cols = _columns(spec)
        suffix = part.suffix if joined else ""
        for name in wanted:
            label = name + suffix if name in repeated else name
            if cols[name] == "point":
                out.update({f"{label}_{a}": "float" for a in AXES})
            else:
                out[label] = cols[name]
    return out


def _arrow(kind: str, values: Any) -> pa.Array:
    values = list(values)
    if kind == "time":
        return times(values)
    if kind == "bool":
        return bools(values)
    if kind == "float":
        return pa.array(values, type=pa.float64())
    if kind == "str":
        return pa.array(values, type=pa.string())
    return pa.array(values, type=pa.int64())  # ids are signed int64, as caveclient needs


def _ratio(meta: dict[str, Any], resolution: Any) -> tuple[float, float, float]:
    if resolution is None:
        return (1.0, 1.0, 1.0)
    own = (meta["voxel_resolution_x"], meta["voxel_resolution_y"], meta["voxel_resolution_z"])
    return tuple(float(o) / float(d) for o, d in zip(own, resolution, strict=True))  # type: ignore[return-value]


def _values(value: Any) -> list:
    if isinstance(value, list | tuple):
        return list(value)
    raise InvalidArgument(f"An 'in' or 'not in' filter takes a list of values, not {value!r}.")


def _condition(
    table: str, then: dict[str, Any], cols: dict[str, str], kind: str, column: str, value: Any
) -> Any:
    """One of CAVE's filters as a condition on the columns as they were then."""
    if column not in cols:
        raise InvalidArgument(
            f"Table {table!r} has no column {column!r} to filter on; choose from {', '.join(cols)}."
        )
    if kind == "spatial":
        if cols[column] != "point":
            raise InvalidArgument(
                f"A spatial filter needs a position column; {column!r} of {table!r} is not one."
            )
        lo, hi = _box(column, value)
        return sa.and_(*(then[f"{column}_{a}"].between(lo[i], hi[i]) for i, a in enumerate(AXES)))
    if cols[column] == "point":
        raise InvalidArgument(
            f"{column!r} of {table!r} is a position: filter it with filter_spatial_dict "
            "(a box [[min x, y, z], [max x, y, z]])."
        )
    if kind == "regex" and cols[column] != "str":
        raise InvalidArgument(f"A regex filter needs a text column; {column!r} is not text.")
    return COMPARE[kind](then[column], value)


def _box(column: str, value: Any) -> tuple[list[float], list[float]]:
    try:
        lo, hi = ([float(v) for v in corner] for corner in value)
        if len(lo) != 3 or len(hi) != 3:
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"The box of {column!r} must be [[min x, y, z], [max x, y, z]], not {value!r}."
        ) from exc
    if not all(a < b for a, b in zip(lo, hi, strict=True)):
        raise InvalidArgument(
            f"The box of {column!r} must have each minimum below its maximum, not {value!r}."
        )
    return lo, hi
