"""Neuroglancer viewer states: the coordinate space, the view, the layers, colours and legend.

Coordinates are in the table's voxels and the dimensions say what a voxel is in nm, so
Neuroglancer shows nm and 4 x 4 x 40 nm voxels look right. The view is centred on the
points and zoomed to hold them. A layer is coloured by an enum property (a text or
true/false field): each value gets a colour from a fixed palette, shown as a colour control
named after the value in the layer's shader panel (Neuroglancer's own legend); values past
the palette share one grey. Rows with a problem (an upload preview) are drawn red.

A layer either points at a precomputed source (``precomputed://<url>``) or holds its rows
(*local* annotations, as Neuroglancer writes them): a point per row, or a line per row
(from, to) with its centre as properties; every other field is a property, text and
true/false as enums. Neuroglancer cannot store an empty number in a property, so an empty
number is written as 0 and named in the annotation's description (``blank: size``), which
`anno_core.ingest.ng_import` reads back as empty.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from anno_core.neuroglancer.encoding import dimensions, geometry, prop_values
from anno_core.neuroglancer.layout import Layout, Prop

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#aec7e8",
    "#ffbb78",
)
OTHER_COLOR = "#c8c8c8"
SINGLE_COLOR = "#ffd600"
PROBLEM_COLOR = "#ff1744"
EXISTING_COLOR = "#8a8a8a"
BLANK = "blank: "
"""Start of a description naming the fields whose numbers are empty."""
SAFE = "~@#$&()*!+=:;,.?/'"
"""Characters left as they are when a state is put in a URL (as Neuroglancer does)."""


@dataclass(frozen=True)
class Legend:
    """Which colour each value of the colouring field gets."""

    field: str | None
    entries: tuple[tuple[str, str], ...]
    """(value, colour '#rrggbb'); the last may be '(other values)'."""


def legend(prop: Prop | None, counts: dict[str, int] | None = None) -> Legend:
    """The colours of an enum property's values (the most frequent first when counts are
    known), at most len(PALETTE), the rest sharing grey."""
    if prop is None or not prop.labels:
        return Legend(None, ())
    values = [v for v in prop.labels if v != ""]
    if counts is not None:
        values = sorted(values, key=lambda v: -counts.get(v, 0))
    named = values[: len(PALETTE)] if len(values) <= len(PALETTE) else values[: len(PALETTE) - 1]
    entries = [(v, PALETTE[i]) for i, v in enumerate(named)]
    if len(named) < len(values) or "" in prop.labels:
        entries.append(("(other values)", OTHER_COLOR))
    return Legend(prop.column, tuple(entries))


def _control(label: str, taken: set[str]) -> str:
    base = "c_" + (re.sub(r"[^a-zA-Z0-9]+", "_", label).strip("_")[:24] or "value")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def shader(
    prop: Prop | None,
    colours: Legend,
    problem: Prop | None = None,
    color: str = SINGLE_COLOR,
) -> str:
    """The annotation shader: colours by ``prop``'s values (with a colour control per value),
    else one colour; rows whose ``problem`` property is 2 in red."""
    lines: list[str] = []
    body: list[str] = []
    if prop is not None and colours.entries:
        taken: set[str] = set()
        index = {label: i for i, label in enumerate(prop.labels or ())}
        other = None
        branches = []
        for label, hex_color in colours.entries:
            name = _control(label, taken)
            lines.append(f'#uicontrol vec3 {name} color(default="{hex_color}")')
            if label == "(other values)":
                other = name
            else:
                branches.append(f"v == {index[label]}u) {{ setColor({name}); }}")
        fallback = f"setColor({other or 'defaultColor()'});"
        body.append(f"  uint v = prop_{prop.id}();")
        if branches:
            body.append("  if (" + "\n  else if (".join(branches))
            body.append(f"  else {{ {fallback} }}")
        else:
            body.append(f"  {fallback}")
    else:
        name = "c_points"
        lines.append(f'#uicontrol vec3 {name} color(default="{color}")')
        body.append(f"  setColor({name});")
    if problem is not None:
        lines.append(f'#uicontrol vec3 c_problem color(default="{PROBLEM_COLOR}")')
        body.append(f"  if (prop_{problem.id}() == 2u) {{ setColor(c_problem); }}")
    return "\n".join([*lines, "void main() {", *body, "}"]) + "\n"


def view(lower: Sequence[float], upper: Sequence[float], resolution: Sequence[float]) -> dict:
    """Position (the middle of the box, voxels) and zooms that show the whole box."""
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    res = np.asarray(resolution, dtype=float)
    size_nm = float(max(((hi - lo) * res).max(), 1.0))
    canonical = float(res.min())  # Neuroglancer's zoom counts in the smallest voxel side
    return {
        "position": [float(v) for v in (lo + hi) / 2],
        "crossSectionScale": max(size_nm / canonical / 700.0, 1e-3),
        "projectionScale": max(size_nm / canonical * 1.2, 1.0),
    }


def source_layer(name: str, url: str, layer_shader: str) -> dict[str, Any]:
    """An annotation layer reading a precomputed source."""
    return {
        "type": "annotation",
        "name": name,
        "source": f"precomputed://{url}",
        "shader": layer_shader,
    }


def inline_layer(
    name: str,
    lay: Layout,
    props: Sequence[Prop],
    frame: pd.DataFrame,
    geometry_kind: str,
    resolution: Sequence[float],
    layer_shader: str,
) -> dict[str, Any]:
    """A layer holding ``frame``'s rows (an ``id`` column, the point and property columns)
    as local annotations in the table's voxels."""
    geom = geometry(lay, frame, geometry_kind).astype(np.float64)
    values = [prop_values(p, frame[p.column]) for p in props]
    blanks = [_blank_columns(p, frame[p.column]) for p in props]
    ids = frame["id"].tolist()
    notes: list[list[str]] = [[] for _ in ids]
    for p, mask in zip(props, blanks, strict=True):
        if mask is not None:
            for i in np.flatnonzero(mask):
                notes[i].append(p.column)
    annotations = []
    for i, aid in enumerate(ids):
        if not np.isfinite(geom[i]).all():
            continue  # no position: nothing to draw (an upload preview says so)
        ann: dict[str, Any] = {"id": str(aid)}
        if geometry_kind == "lines":
            ann.update(type="line", pointA=_xyz(geom[i, :3]), pointB=_xyz(geom[i, 3:]))
        else:
            ann.update(type="point", point=_xyz(geom[i, :3]))
        if props:
            ann["props"] = [_json_number(v[i], p) for v, p in zip(values, props, strict=True)]
        if notes[i]:
            ann["description"] = BLANK + ", ".join(notes[i])
        annotations.append(ann)
    return {
        "type": "annotation",
        "name": name,
        "source": {
            "url": "local://annotations",
            "transform": {"outputDimensions": dimensions(resolution)},
        },
        "annotationProperties": [p.to_info() for p in props],
        "annotationRelationships": [],
        "annotations": annotations,
        "shader": layer_shader,
    }


def _blank_columns(prop: Prop, values: pd.Series) -> np.ndarray | None:
    """Where a float property's values are empty (None for enums: 0 is their empty)."""
    if prop.type != "float32":
        return None
    mask = pd.to_numeric(values, errors="coerce").isna().to_numpy()
    return mask if mask.any() else None


def _xyz(values: np.ndarray) -> list[float | int]:
    return [int(v) if float(v).is_integer() else float(v) for v in values]


def _json_number(value: Any, prop: Prop) -> float | int:
    if prop.type != "float32":
        return int(value)
    v = float(value)
    if not math.isfinite(v):
        return 0
    return int(v) if v.is_integer() else v


def volume_layers(sources: dict[str, str | None]) -> list[dict[str, Any]]:
    """The aligned volume's image and segmentation layers (those that are set)."""
    out = []
    for kind, key in (("image", "image_source"), ("segmentation", "segmentation_source")):
        if sources.get(key):
            out.append({"type": kind, "name": kind, "source": sources[key]})
    return out


def viewer_state(
    resolution: Sequence[float],
    box: tuple[Sequence[float], Sequence[float]] | None,
    layers: list[dict[str, Any]],
    selected: str | None = None,
) -> dict[str, Any]:
    """A whole state: the coordinate space, the view of ``box`` (voxels), the layers."""
    state: dict[str, Any] = {"dimensions": dimensions(resolution)}
    if box is not None:
        state.update(view(box[0], box[1], resolution))
    state["layers"] = layers
    state["layout"] = "xy-3d"
    if selected:
        state["selectedLayer"] = {"layer": selected, "visible": True}
    return state


def state_url(base: str, state: dict[str, Any]) -> str:
    """The address of ``state`` on the viewer at ``base`` (``#!`` + the JSON, escaped)."""
    text = json.dumps(state, separators=(",", ":"), allow_nan=False)
    return base.split("#", 1)[0] + "#!" + quote(text, safe=SAFE)
