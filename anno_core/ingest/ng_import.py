"""A Neuroglancer link or state JSON read like a CSV file: one annotation layer -> rows.

`read_state(source, table_resolution, layer=...)` takes a state (a dict, its JSON text, or
a link whose ``#!`` part holds it) and returns a `CsvData`: one row per annotation of the
layer's own (local) annotations, every cell as text, so the mapping, checks, preview and
upload of a CSV apply unchanged. Columns:

- positions in the table's voxels: ``x, y, z`` (a point), ``pointA_x...`` and
  ``pointB_x...`` (a line's two ends, or a box's two corners), ``center_x...`` and
  ``radii_x...`` (an ellipsoid); ``type`` when the layer mixes kinds;
- ``ng_id`` (the annotation's id), ``description``, one column per relationship
  (``segments``: the segment ids, space-separated), ``tags`` (older states' tag labels);
- one column per property, named by its id: enum values as their labels, colours as
  ``#rrggbb``, numbers as numbers.

Positions are converted with the state's own coordinate space, never guessed: a layer's
coordinates are in its source's input dimensions (``inputDimensions``, else its
``outputDimensions``, else the state's ``dimensions``), mapped by the transform's matrix
(its last column in output units) to physical nm, then to the table's voxels; dimensions are
matched by name. When nothing changes the unit (the state's voxels are the table's, no
matrix), the numbers are kept exactly as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa

from anno_core.errors import InvalidArgument
from anno_core.ingest.csvio import CsvData
from anno_core.ingest.ng_space import Transform, transform
from anno_core.neuroglancer.layout import layout
from anno_core.neuroglancer.state import BLANK
from anno_core.schemas import AXES, SchemaSpec
from anno_core.validation.report import ValidationReport

ENCODING = "a Neuroglancer state"
"""What a layer's rows say they were read as (`CsvData.encoding`)."""
KINDS = {
    # kind: (key in the annotation, column prefix) of each position it has
    "point": (("point", ""),),
    "line": (("pointA", "pointA_"), ("pointB", "pointB_")),
    "axis_aligned_bounding_box": (("pointA", "pointA_"), ("pointB", "pointB_")),
    "ellipsoid": (("center", "center_"), ("radii", "radii_")),
}


@dataclass(frozen=True)
class LayerSummary:
    """An annotation layer of a state, as the upload page lists it."""

    name: str
    count: int
    kinds: dict[str, int]
    local: bool
    """Whether the layer holds its annotations (a source elsewhere cannot be read here)."""


def looks_like_state(source: Any) -> bool:
    """Whether ``source`` is a Neuroglancer state or link rather than a CSV file."""
    if isinstance(source, dict):
        return True
    if isinstance(source, bytes | bytearray | memoryview):
        try:
            source = bytes(source[:4096]).decode("utf-8")
        except UnicodeDecodeError:
            return False
    if not isinstance(source, str):
        return False
    text = source.lstrip("\ufeff \t\r\n")
    return text.startswith("{") or ("#!" in text and text.startswith(("http://", "https://", "#!")))


def parse_state(source: Any) -> dict[str, Any]:
    """The state a dict, JSON text or link holds, or a refusal saying what to paste."""
    if isinstance(source, dict):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        source = bytes(source).decode("utf-8", errors="replace")
    text = str(source).strip().lstrip("\ufeff")
    if not text.startswith("{"):
        if "#!" not in text:
            raise InvalidArgument(
                "This is neither a Neuroglancer link (with '#!' in it) nor a state (JSON "
                "starting with '{'); copy the link from Neuroglancer's address bar, or its "
                "state from the {} button."
            )
        text = unquote(text.split("#!", 1)[1]).lstrip("+")
        if text.startswith(("http://", "https://", "gs://", "s3://")):
            raise InvalidArgument(
                "This link names a state stored elsewhere; open it in Neuroglancer and copy "
                "the state JSON (the {} button) instead (nothing is fetched from here)."
            )
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(
            f"The Neuroglancer state is not valid JSON ({str(exc).splitlines()[0]}); copy it "
            "again, whole."
        ) from exc
    if not isinstance(state, dict):
        raise InvalidArgument("A Neuroglancer state is a JSON object ({...}).")
    return state


def _layers(state: dict[str, Any]) -> list[dict[str, Any]]:
    layers = state.get("layers") or []
    if isinstance(layers, dict):  # very old states: {name: layer}
        layers = [{**v, "name": k} for k, v in layers.items()]
    return [lyr for lyr in layers if isinstance(lyr, dict) and lyr.get("type") == "annotation"]


def _local_source(layer: dict[str, Any]) -> dict[str, Any] | None:
    """The layer's local annotation source (with its transform), or None."""
    sources = layer.get("source")
    for src in sources if isinstance(sources, list) else [sources]:
        url = src.get("url") if isinstance(src, dict) else src
        if isinstance(url, str) and url.startswith("local://annotations"):
            return src if isinstance(src, dict) else {"url": url}
    if sources is None and "annotations" in layer:
        return {"url": "local://annotations"}  # old states had no source for local ones
    return None


def layer_summaries(source: Any) -> list[LayerSummary]:
    """Every annotation layer of a state: name, how many annotations of which kind."""
    out = []
    for lyr in _layers(parse_state(source)):
        anns = [a for a in lyr.get("annotations") or [] if isinstance(a, dict)]
        kinds: dict[str, int] = {}
        for a in anns:
            kinds[str(a.get("type"))] = kinds.get(str(a.get("type")), 0) + 1
        out.append(
            LayerSummary(str(lyr.get("name", "")), len(anns), kinds, _local_source(lyr) is not None)
        )
    return out


# -- reading a layer --------------------------------------------------------------------
def read_state(
    source: Any,
    table_resolution: Any,
    *,
    layer: str | None = None,
    name: str | None = None,
) -> CsvData:
    """One annotation layer of a state as text rows (see the module docstring)."""
    state = parse_state(source)
    layers = _layers(state)
    if not layers:
        raise InvalidArgument("The state has no annotation layer; nothing to import.")
    chosen = next((lyr for lyr in layers if lyr.get("name") == layer), None)
    if layer is not None and chosen is None:
        names = ", ".join(repr(lyr.get("name")) for lyr in layers)
        raise InvalidArgument(f"The state has no annotation layer {layer!r}; it has {names}.")
    if chosen is None:
        chosen = next((lyr for lyr in layers if _local_source(lyr) is not None), layers[0])
    label = str(chosen.get("name", ""))
    src = _local_source(chosen)
    if src is None:
        raise InvalidArgument(
            f"Layer {label!r} reads its annotations from a source elsewhere; only annotations "
            "kept in the state itself (drawn in Neuroglancer) can be imported."
        )
    res = np.asarray(table_resolution, dtype=float)
    tf = transform(state, src, res)
    anns = chosen.get("annotations") or []
    notes = ValidationReport(rows=0)
    rows, lines, skipped = _rows(chosen, anns, tf, res)
    if skipped:
        notes.add(
            "skipped_annotation",
            "type",
            np.ones(len(skipped), bool),
            None,
            "this annotation is a polyline (or of an unknown kind) and cannot become a row",
            np.asarray(skipped, dtype=np.int64),
            severity="warning",
        )
    if not rows:
        raise InvalidArgument(f"Layer {label!r} has no points, lines, boxes or ellipsoids.")
    columns = list(dict.fromkeys(c for r in rows for c in r))
    # what Neuroglancer adds to every annotation, left out when no annotation has any
    columns = [
        c
        for c in columns
        if c not in ("description", "tags") or any(r.get(c) is not None for r in rows)
    ]
    table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})
    notes.rows = len(rows)
    return CsvData(
        table=table,
        header=columns,
        lines=np.asarray(lines, dtype=np.int64),
        encoding=ENCODING,
        delimiter=",",
        name=name or f"Neuroglancer layer '{label}'",
        notes=notes,
    )


def _rows(
    layer: dict[str, Any], anns: list[Any], tf: Transform, res: np.ndarray
) -> tuple[list[dict[str, str | None]], list[int], list[int]]:
    """(rows as text, their numbers in the layer (from 1), numbers of skipped ones)."""
    props = [p for p in layer.get("annotationProperties") or [] if isinstance(p, dict)]
    rels = layer.get("annotationRelationships", ["segments"])
    tags = {t.get("id"): t.get("label") for t in layer.get("annotationTags") or []}
    kinds = {a.get("type") for a in anns if isinstance(a, dict) and a.get("type") in KINDS}
    rows: list[dict[str, str | None]] = []
    lines: list[int] = []
    skipped: list[int] = []
    for n, a in enumerate(anns, start=1):
        kind = a.get("type") if isinstance(a, dict) else None
        if kind not in KINDS:
            skipped.append(n)
            continue
        row: dict[str, str | None] = {}
        if len(kinds) > 1:
            row["type"] = kind
        _positions(row, a, kind, tf, res)
        row["ng_id"] = _text(a.get("id"))
        blank, description = _blank_note(a.get("description"))
        row["description"] = description
        _segments(row, a.get("segments"), rels)
        if tags:
            names = [str(tags.get(t, t)) for t in a.get("tagIds") or []]
            row["tags"] = ", ".join(names) or None
        values = a.get("props") or []
        for i, spec in enumerate(props):
            col = str(spec.get("id"))
            value = values[i] if i < len(values) else spec.get("default")
            row[col] = (
                None
                if spec.get("description", col) in blank or col in blank
                else (_prop_text(spec, value))
            )
        rows.append(row)
        lines.append(n)
    return rows, lines, skipped


def _positions(
    row: dict[str, str | None], a: dict, kind: str, tf: Transform, res: np.ndarray
) -> None:
    for key, prefix in KINDS[kind]:
        raw = a.get(key)
        if not isinstance(raw, list):
            raise InvalidArgument(f"Annotation {a.get('id')!r} has no {key!r}.")
        try:
            coords = np.asarray([float(v) for v in raw], dtype=float)[None, :]
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"Annotation {a.get('id')!r} has a {key!r} that is not numbers."
            ) from exc
        if key == "radii":  # a size: scaled, never moved
            vox = (
                tf.apply(coords, res)
                if tf.exact is not None
                else np.round(np.abs(coords @ tf.matrix[:, :-1].T) / res, 9)
            )
        else:
            vox = tf.apply(coords, res)
        for axis, v in zip(AXES, vox[0], strict=True):
            row[f"{prefix}{axis}"] = _number(v)


def _segments(row: dict[str, str | None], segments: Any, rels: list[Any]) -> None:
    if not rels:
        return
    lists = segments if isinstance(segments, list) else []
    if lists and not isinstance(lists[0], list):  # a flat list: the one relationship
        lists = [lists]
    for i, rel in enumerate(rels):
        ids = lists[i] if i < len(lists) and isinstance(lists[i], list) else []
        row[str(rel)] = " ".join(str(v) for v in ids) or None


def _blank_note(description: Any) -> tuple[set[str], str | None]:
    """Fields our own states mark empty (``blank: a, b``), and the description otherwise."""
    if not isinstance(description, str) or not description:
        return set(), None
    if description.startswith(BLANK):
        return {f.strip() for f in description[len(BLANK) :].split(",")}, None
    return set(), description


def _prop_text(spec: dict, value: Any) -> str | None:
    if value is None:
        return None
    kind = spec.get("type")
    if kind in ("rgb", "rgba"):
        return str(value) if isinstance(value, str) else None
    labels, values = spec.get("enum_labels"), spec.get("enum_values")
    if labels and values:
        for v, label in zip(values, labels, strict=False):
            if _same(v, value):
                return label or None
    try:
        return _number(float(value))
    except (TypeError, ValueError):
        return str(value)


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))


def _text(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def suggest_mapping(spec: SchemaSpec, columns: list[str]) -> dict[str, tuple[str, str, str]]:
    """Which positions of a layer's rows feed the schema's points: a line's (or box's) two
    ends its first and second point (pre -> post), a point or centre its only one."""
    lay = layout(spec)
    have = set(columns)
    out: dict[str, tuple[str, str, str]] = {}
    pairs = [("pointA_", lay.ends[0]), ("pointB_", lay.ends[-1])] if lay.kind == "line" else []
    singles = ["", "center_", "pointA_"] if lay.kind == "point" else []
    for prefix, field in pairs:
        cols = tuple(f"{prefix}{a}" for a in AXES)
        if set(cols) <= have:
            out[field] = cols  # type: ignore[assignment]
    for prefix in singles:
        cols = tuple(f"{prefix}{a}" for a in AXES)
        if set(cols) <= have:
            out[lay.ends[0]] = cols  # type: ignore[assignment]
            break
    return out
