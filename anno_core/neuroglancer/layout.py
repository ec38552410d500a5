"""What a schema looks like in Neuroglancer: its geometry and the properties of its fields.

A schema with one required point draws a point per row. A schema with two (``synapse``:
pre and post; ``contact``: side a and side b...) draws a line from the first to the second
and, as a second source, its centre point (``ctr_pt`` where the schema has one, else the
middle of the line). A row is placed in the spatial index by its *anchor*: the point, or
the middle of the line.

Properties come from the other fields: numbers (``float``, ``int``, reference ids) as
``float32`` (whole numbers exact up to 16,777,216), true/false as a ``uint8`` enum, text as
a ``uint8`` enum of its values when there are at most 255 of them (more: left out, the
format has no text), and every other point as three ``float32`` properties
``{field}_x/_y/_z`` in voxels. Enum value 0 is an empty cell. Properties are listed
4-byte first, then 1-byte (the order the encoding and the package's reader use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anno_core.errors import InvalidArgument
from anno_core.schemas import AXES, SchemaSpec

MAX_ENUM = 255
"""Most distinct values a text field may have to become an enum property."""
OTHER = "(other)"
"""Label of text values that were not among those an enum was made from."""
BOOL_LABELS = ("", "false", "true")
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Prop:
    """One annotation property: its id, where its values come from, its type."""

    id: str
    column: str
    """The flat column (a point's storage column ``{field}_x`` for point properties)."""
    type: str
    """``float32``, or an enum: ``uint8`` (``uint16``/``uint32`` in a state's own layer)."""
    kind: str
    """The field's kind: float, int, ref, user, bool, str, or point."""
    labels: tuple[str, ...] | None = None
    """Enum labels; value i is ``labels[i]`` (0: empty)."""

    @classmethod
    def from_info(cls, spec: dict, kind: str = "") -> Prop:
        """A property as an ``info`` file lists it (its description names its column)."""
        labels = spec.get("enum_labels")
        return cls(
            id=spec["id"],
            column=spec.get("description") or spec["id"],
            type=spec["type"],
            kind=kind or ("str" if labels else "float"),
            labels=tuple(labels) if labels else None,
        )

    def to_info(self) -> dict:
        """The property as the ``info`` file and a layer's ``annotationProperties`` say it."""
        out: dict = {"id": self.id, "type": self.type, "description": self.column}
        if self.labels is not None:
            out["enum_values"] = list(range(len(self.labels)))
            out["enum_labels"] = list(self.labels)
        return out


@dataclass(frozen=True)
class Layout:
    """How one schema's rows are drawn."""

    schema: str
    kind: str
    """``point`` or ``line``."""
    ends: tuple[str, ...]
    """Point fields of the geometry: one for a point, (from, to) for a line."""
    centre: str | None
    """For a line: the point field drawn as its centre (None: the line's middle)."""
    others: tuple[str, ...]
    """Point fields that are neither end (each becomes x, y, z properties)."""

    @property
    def geometries(self) -> tuple[str, ...]:
        """Sources a table of this schema serves: ``points``, or ``lines`` and ``points``."""
        return ("lines", "points") if self.kind == "line" else ("points",)

    def point_columns(self) -> list[str]:
        """Every stored column of every point field (ends first)."""
        fields = [*self.ends, *self.others]
        return [f"{f}_{a}" for f in fields for a in AXES]


def layout(spec: SchemaSpec) -> Layout:
    """The layout of a schema, or a refusal for a schema without positions."""
    points = [f for f in spec.user_fields if f.kind == "point"]
    required = [f.column for f in points if f.required]
    names = {f.column for f in points}
    if not points:
        raise InvalidArgument(
            f"Schema '{spec.name}' has no positions, so its rows cannot be drawn in "
            "Neuroglancer; open the table its target ids refer to instead."
        )
    if {"pre_pt_position", "post_pt_position"} <= names:
        ends: tuple[str, ...] = ("pre_pt_position", "post_pt_position")
    else:
        two = [c for c in required if c != "ctr_pt_position"]
        two.sort(key=lambda c: (c != "pt_position", c))
        ends = tuple(two[:2]) if len(two) >= 2 else (two or [points[0].column])[:1]
    kind = "line" if len(ends) == 2 else "point"
    centre = "ctr_pt_position" if kind == "line" and "ctr_pt_position" in names else None
    others = tuple(f.column for f in points if f.column not in ends)
    return Layout(spec.name, kind, ends, centre, others)


def prop_id(column: str, taken: set[str]) -> str:
    """A property id for a column: the column itself when Neuroglancer allows it."""
    base = column if _ID.match(column) else "p_" + re.sub(r"[^a-zA-Z0-9_]", "_", column)
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}_{n}", n + 1
    taken.add(pid)
    return pid


def enum_type(n_labels: int) -> str:
    """The smallest unsigned type holding ``n_labels`` enum values."""
    return "uint8" if n_labels <= 256 else "uint16" if n_labels <= 65536 else "uint32"


def properties(
    spec: SchemaSpec,
    lay: Layout,
    labels: dict[str, tuple[str, ...] | None],
    max_enum: int = MAX_ENUM,
) -> list[Prop]:
    """The properties of a table: ``labels`` gives each text field's enum labels (None, or
    more than ``max_enum``: left out)."""
    taken: set[str] = set()
    wide: list[Prop] = []
    narrow: list[Prop] = []
    for f in spec.data_fields:
        if f.kind == "point":
            if f.column in lay.others:
                for a in AXES:
                    col = f"{f.column}_{a}"
                    wide.append(Prop(prop_id(col, taken), col, "float32", "point"))
        elif f.kind in ("float", "int", "ref", "user"):
            wide.append(Prop(prop_id(f.column, taken), f.column, "float32", f.kind))
        elif f.kind == "bool":
            narrow.append(Prop(prop_id(f.column, taken), f.column, "uint8", "bool", BOOL_LABELS))
        elif f.kind == "str":
            found = labels.get(f.column)
            if found is not None and len(found) <= max_enum:
                pid = prop_id(f.column, taken)
                narrow.append(Prop(pid, f.column, enum_type(len(found)), "str", found))
    return ordered(wide + narrow)


def ordered(props: list[Prop]) -> list[Prop]:
    """Properties 4-byte first, then 2-byte, then 1-byte (stable): the order records are laid
    out in, and the order the package's reader decodes them in."""
    size = {"float32": 0, "uint32": 0, "uint16": 1}
    return sorted(props, key=lambda p: size.get(p.type, 2))


def text_labels(
    values: list[str | None], complete: bool, max_enum: int = MAX_ENUM
) -> tuple[str, ...] | None:
    """Enum labels of a text field from its distinct values: empty first, then sorted, then
    `OTHER` when the values came from a sample; None when there are too many."""
    distinct = sorted({str(v) for v in values if v is not None and v == v and v != ""})
    labels = ("", *distinct) + (() if complete else (OTHER,))
    return labels if len(labels) <= max_enum else None
