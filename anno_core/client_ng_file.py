"""What `AnnotationClient` offers to see a file in Neuroglancer before it is uploaded: its
rows as checked, problems in red, over the table's stored points (a mixin of
`ClientNeuroglancer`, which gives it the viewer's host). Also the link a page shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anno_core.backend import Backend
from anno_core.errors import AnnoError, InvalidArgument
from anno_core.ingest.frames import scale_factor
from anno_core.neuroglancer import state as ngs
from anno_core.neuroglancer.layout import (
    Layout,
    Prop,
    enum_type,
    layout,
    ordered,
    prop_id,
    text_labels,
)
from anno_core.neuroglancer.layout import properties as table_properties
from anno_core.schemas import AXES, SchemaSpec
from anno_core.validation.positions import parse_positions
from anno_core.wire import endpoints as ep

BIG_ENUM = 65_536
PROBLEM = Prop("problem", "problem", "uint8", "str", ("", "ok", "has a problem"))


@dataclass(frozen=True)
class NeuroglancerLink:
    """A viewer address with what a page says beside it."""

    url: str
    legend: ngs.Legend
    inline: bool = False
    note: str | None = None
    """Why others may not see the annotations (a shared link), or None."""
    expires: str | None = None
    """Until when the source address in the link works (ISO time), when it has one."""


class ClientNeuroglancerFile:
    """A file's points before upload in the local viewer (mixed into ClientNeuroglancer)."""

    # Provided by ClientNeuroglancer.
    backend: Backend
    _local_host: Any
    _viewer: Any

    # -- a file before upload ----------------------------------------------------------------
    def neuroglancer_file_link(
        self, plan: Any, check: Any, *, color_by: str | None = None
    ) -> NeuroglancerLink:
        """The file of an upload plan, as checked, on the viewer this machine serves: rows
        with a problem in red, coloured by a column of the file, over the table's points
        (grey, when the caller may read them)."""
        spec, lay = plan.spec, layout(plan.spec)
        res = tuple(float(v) for v in plan.table_resolution)
        frame = _file_frame(plan, check, spec, lay)
        labels = {
            f.column: all_labels(frame[f.column]) for f in spec.data_fields if f.kind == "str"
        }
        props = table_properties(spec, lay, labels, max_enum=BIG_ENUM)
        colour = next((p for p in props if p.column == color_by), None)
        if color_by and colour is None:
            if color_by not in plan.columns:
                raise InvalidArgument(f"The file has no column {color_by!r} to colour by.")
            frame["colour_" + color_by] = plan.data.text(color_by).to_numpy()
            found = all_labels(frame["colour_" + color_by])
            if found is None:
                raise InvalidArgument(
                    f"Column {color_by!r} has more than {BIG_ENUM:,} different values; "
                    "choose a column with fewer to colour by."
                )
            pid = prop_id(color_by, {p.id for p in props} | {"problem"})
            colour = Prop(pid, "colour_" + color_by, enum_type(len(found)), "str", found)
            props = ordered([*props, colour])
        source_props = ordered([*props, PROBLEM])
        counts = frame[colour.column].value_counts().to_dict() if colour is not None else None
        legend = ngs.legend(colour, counts)
        from anno_core.neuroglancer.frame_source import FrameSource
        from anno_core.server.viewer import publish

        source = FrameSource(lay, source_props, res, frame)
        host = self._local_host(with_tables=False)
        layers = ngs.volume_layers(self._layers_of(plan.volume))
        existing = self._existing_layer(plan)
        if existing is not None:
            layers.append(existing)
        token = publish(source)
        shader = ngs.shader(colour, legend, problem=PROBLEM)
        label = plan.data.name
        if label.startswith("The file '") and label.endswith("'"):  # the CSV reader's words
            label = label[len("The file '") : -1]
        name = f"{label} (not uploaded)"
        for geometry in lay.geometries:
            url = ep.url(host, ep.NG_MEMORY, token=token, geometry=geometry)
            label = name if geometry == lay.geometries[0] else f"{name} centres"
            layers.append(ngs.source_layer(label, url, shader))
        state = ngs.viewer_state(res, source.extent(), layers, selected=name)
        return NeuroglancerLink(ngs.state_url(self._viewer(host), state), legend)

    def _layers_of(self, volume: str) -> dict[str, str | None]:
        try:
            return self.backend.volume_sources(volume)
        except AnnoError:
            return {}

    def _existing_layer(self, plan: Any) -> dict | None:
        """The table's own points, grey, when the caller may read them."""
        try:
            src = self.backend.neuroglancer_source(plan.volume, plan.table_name)
        except AnnoError:
            return None
        host = src["server"] or self._local_host()
        url = ep.url(host, ep.NG_SOURCE, grant=src["grant"], geometry=src["geometries"][-1])
        shader = ngs.shader(None, ngs.Legend(None, ()), color=ngs.EXISTING_COLOR)
        return ngs.source_layer(f"{plan.table_name} (stored)", url, shader)


def all_labels(values: pd.Series) -> tuple[str, ...] | None:
    """Every distinct text value of a column as enum labels (None: too many to colour by)."""
    return text_labels(values.tolist(), complete=True, max_enum=BIG_ENUM)


def _file_frame(plan: Any, check: Any, spec: SchemaSpec, lay: Layout) -> pd.DataFrame:
    """The checked rows as the viewer draws them: positions in the table's voxels (empty
    where unreadable), fields as checked, the line number as id, problems marked."""
    src = check.frame
    out: dict[str, Any] = {"id": np.asarray(check.lines, dtype=np.int64)}
    n = len(out["id"])
    factor = scale_factor(plan.annotation_resolution, plan.table_resolution)
    for f in spec.data_fields:
        if f.kind == "point" and f.column in src.columns:  # a column of text positions
            xyz, bad = parse_positions(src[f.column])
            xyz = np.where(bad[:, None], np.nan, xyz) * (1 if factor is None else factor)
            for j, a in enumerate(AXES):
                out[f"{f.column}_{a}"] = xyz[:, j]
            continue
        for col in f.storage_columns:
            if col in src.columns:
                out[col] = (
                    pd.to_numeric(src[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                    if f.kind == "point"
                    else src[col].to_numpy()
                )
            else:
                out[col] = np.full(n, np.nan if f.kind == "point" else None, dtype=object)
    bad = np.zeros(n, dtype=bool)
    bad[check.report.bad_rows] = True
    out["problem"] = np.where(bad, "has a problem", "ok")
    return pd.DataFrame(out)
