"""Which column of a file holds which field of a schema: a proposal the caller can change.

`propose_mapping(columns, spec)` matches, ignoring case, spaces, dots and dashes:
exact field names (``size``, ``cell_type``); a point ``pt`` from one column ``pt_position``
or ``pt`` (cells like ``[x, y, z]``, ``x y z`` or ``x,y,z``), or from three columns
``pt_position_x/_y/_z`` or ``pt_x/_y/_z``; for a schema with a single point, plain ``x, y, z``
(or ``position_x/_y/_z``) columns; and ``id``. `check_mapping` says, as a report, what is
wrong with a (possibly edited) mapping: a required field with no column (naming the columns
that exist), a column that is not in the file, one column used for two fields, a field taken
from a column whose name appears twice in the header. Unused columns are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from anno_core.schemas import AXES, FieldSpec, SchemaSpec
from anno_core.validation.report import ValidationReport

Source = str | tuple[str, str, str] | None


def norm(name: str) -> str:
    """A column name compared loosely: lower case, runs of space . - / as one underscore."""
    return re.sub(r"[\s.\-/]+", "_", str(name).strip().lower()).strip("_")


def column_triples(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """Columns that look like x, y, z of one point: 'X, Y, Z', 'soma_x/_y/_z', 'Pos. x'...

    Grouped by what comes before the axis letter (case, spaces, dots, dashes and
    underscores aside); a group is a triple when it has all three axes (the first of each)."""
    groups: dict[str, dict[str, str]] = {}
    for c in columns:
        m = re.match(r"^(.*?)[\s_.\-]*([xyz])$", str(c), flags=re.IGNORECASE)
        if m:
            groups.setdefault(m.group(1).strip().lower(), {}).setdefault(m.group(2).lower(), c)
    return [(g["x"], g["y"], g["z"]) for g in groups.values() if len(g) == 3]


@dataclass(frozen=True)
class ColumnMapping:
    """For each field of the schema the column (or x, y, z columns) it comes from."""

    schema: str
    fields: dict[str, Source]
    id_column: str | None = None
    ignored: tuple[str, ...] = ()
    how: dict[str, str] = field(default_factory=dict)

    def sources(self) -> dict[str, Source]:
        """Only the fields that have a column."""
        return {k: v for k, v in self.fields.items() if v is not None}

    def used_columns(self) -> list[str]:
        """Every file column the mapping reads, in field order."""
        out: list[str] = []
        for src in self.sources().values():
            out.extend([src] if isinstance(src, str) else list(src))
        if self.id_column:
            out.append(self.id_column)
        return out

    def with_changes(
        self, changes: Mapping[str, Source], columns: Sequence[str] | None = None
    ) -> ColumnMapping:
        """A copy with some fields (or ``id``) pointed at other columns (None: no column)."""
        fields = dict(self.fields)
        id_column = self.id_column
        for key, src in changes.items():
            if key == "id":
                id_column = src if isinstance(src, str) and src else None
                continue
            if key not in fields:
                raise KeyError(
                    f"{key!r} is not a field of schema {self.schema!r}; the fields "
                    f"are {', '.join(fields)}."
                )
            if isinstance(src, list | tuple):
                src = tuple(str(c) for c in src)
                if len(src) != 3:
                    raise ValueError(f"A split position needs 3 columns x, y, z, not {src!r}.")
            fields[key] = src or None
        mapped = replace(
            self,
            fields=fields,
            id_column=id_column,
            how={**self.how, **{k: "chosen" for k in changes}},
        )
        if columns is not None:
            used = set(mapped.used_columns())
            mapped = replace(mapped, ignored=tuple(c for c in columns if c not in used))
        return mapped

    def to_dict(self) -> dict[str, object]:
        """Plain data (lists for split positions), e.g. for a form or JSON."""
        out: dict[str, object] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.fields.items()
        }
        out["id"] = self.id_column
        return out


def propose_mapping(
    columns: Sequence[str], spec: SchemaSpec, *, update: bool = False
) -> ColumnMapping:
    """The likely column of each user field of ``spec`` among ``columns``."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    fields: dict[str, Source] = {}
    how: dict[str, str] = {}
    taken: set[str] = set()
    points = [f for f in spec.user_fields if f.kind == "point"]
    for f in spec.user_fields:
        src, why = (
            _point_source(f, by_norm, single=len(points) == 1)
            if f.kind == "point"
            else _scalar_source(f, by_norm)
        )
        cols = [src] if isinstance(src, str) else list(src or ())
        if any(c in taken for c in cols):
            src, why = None, ""
        taken.update(cols)
        fields[f.column] = src
        if why:
            how[f.column] = why
    id_column = by_norm.get("id")
    if id_column in taken:
        id_column = None
    used = taken | ({id_column} if id_column else set())
    ignored = tuple(c for c in columns if c not in used)
    return ColumnMapping(
        schema=spec.name, fields=fields, id_column=id_column, ignored=ignored, how=how
    )


def _scalar_source(f: FieldSpec, by_norm: dict[str, str]) -> tuple[Source, str]:
    hit = by_norm.get(norm(f.column))
    return (hit, "same name") if hit else (None, "")


def _point_source(f: FieldSpec, by_norm: dict[str, str], single: bool) -> tuple[Source, str]:
    base = f.column[: -len("_position")]
    for name in (f.column, base):
        if name in by_norm:
            return by_norm[name], "same name"
    prefixes = [f.column, base] + (["position", "pos", ""] if single else [])
    for prefix in prefixes:
        names = [f"{prefix}_{a}" if prefix else a for a in AXES]
        if all(n in by_norm for n in names):
            split = tuple(by_norm[n] for n in names)
            return split, "x, y, z columns"  # type: ignore[return-value]
    return None, ""


def check_mapping(
    mapping: ColumnMapping,
    columns: Sequence[str],
    spec: SchemaSpec,
    *,
    update: bool = False,
    duplicates: Mapping[str, list[int]] | None = None,
) -> ValidationReport:
    """Errors (and ignored-column warnings) of a mapping against a file's columns."""
    rep = ValidationReport(rows=0)
    one = np.array([None], dtype=object)
    present = set(columns)
    listing = ", ".join(repr(c) for c in columns) or "none"
    uses: dict[str, list[str]] = {}
    for f in spec.user_fields:
        src = mapping.fields.get(f.column)
        if src is None:
            if f.required and not update:
                rep.add(
                    "missing_column",
                    f.column,
                    None,
                    None,
                    f"the required field '{f.column}' has no column; choose one of the "
                    f"file's columns ({listing})"
                    + (", or three for x, y, z" if f.kind == "point" else ""),
                    one,
                )
            continue
        for c in [src] if isinstance(src, str) else list(src):
            uses.setdefault(c, []).append(f.column)
            if c not in present:
                rep.add(
                    "unknown_column",
                    f.column,
                    None,
                    None,
                    f"'{f.column}' is mapped to a column {c!r} that is not in the file; "
                    f"the columns are: {listing}",
                    one,
                )
            if duplicates and c in duplicates:
                cols = ", ".join(map(str, duplicates[c]))
                rep.add(
                    "duplicate_header",
                    f.column,
                    None,
                    None,
                    f"'{f.column}' is mapped to {c!r}, but columns {cols} are all called "
                    f"{c!r}; rename them in the file so it is clear which holds "
                    f"'{f.column}'",
                    one,
                )
    if mapping.id_column is not None:
        uses.setdefault(mapping.id_column, []).append("id")
        if mapping.id_column not in present:
            rep.add(
                "unknown_column",
                "id",
                None,
                None,
                f"the id is mapped to a column {mapping.id_column!r} that is not in the file",
                one,
            )
    elif update:
        rep.add(
            "missing_column",
            "id",
            None,
            None,
            "updates need an 'id' column naming the annotations to change; choose one of "
            f"the file's columns ({listing})",
            one,
        )
    for c, names in uses.items():
        if len(names) > 1:
            rep.add(
                "column_used_twice",
                c,
                None,
                None,
                f"column {c!r} is mapped to {len(names)} fields ({', '.join(names)}); "
                "each column can feed one field",
                one,
            )
    used = set(uses)
    for c in columns:
        if c not in used:
            if norm(c).endswith(("supervoxel_id", "root_id")):
                msg = f"{c!r} is filled in by the segmentation service; the column is ignored"
            else:
                msg = (
                    f"{c!r} matches no field of schema '{spec.name}'; the column is ignored "
                    "(map it to a field if it belongs to one)"
                )
            rep.add("ignored_column", c, None, None, msg, one, severity="warning")
    return rep
