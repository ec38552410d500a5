"""The state of a table read from its precomputed sources: built the same way by the client
(`AnnotationClient.neuroglancer_state`) and by the server's open route, which builds it when
a browser follows an *Open in Neuroglancer* link (so a page draws that link at once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from anno_core.errors import InvalidArgument
from anno_core.neuroglancer import state as ngs
from anno_core.neuroglancer.layout import Layout, Prop


def colour_prop(props: Sequence[Prop], color_by: str | None) -> Prop | None:
    """The enum property of the field ``color_by`` (None: one colour), or a refusal."""
    if not color_by:
        return None
    found = next((p for p in props if p.column == color_by and p.labels), None)
    if found is None:
        choices = [p.column for p in props if p.labels]
        raise InvalidArgument(
            f"Points can be coloured by a text or true/false field with few values; "
            f"{color_by!r} is not one"
            + (f" (choose {', '.join(repr(c) for c in choices)})." if choices else ".")
        )
    return found


def moment_name(at: datetime | None, version: str | None = None) -> str | None:
    """How a layer names the moment it shows: ``version v1 (2026-11-30 10:00 UTC)``, a
    date and time, or None (the live rows)."""
    if at is None:
        return None
    when = f"{at:%Y-%m-%d %H:%M}" + (f":{at:%S}" if at.second or at.microsecond else "")
    return f"version {version} ({when} UTC)" if version is not None else f"{when} UTC"


def layer_name(table: str, filtered: bool, moment: str | None = None) -> str:
    """The name of a table's layer: ``cells``, ``cells (filtered)``, ``cells at version v1
    (...)``."""
    return table + (" (filtered)" if filtered else "") + (f" at {moment}" if moment else "")


def sourced_state(
    table: str,
    filtered: bool,
    lay: Layout,
    resolution: Sequence[float],
    urls: dict[str, str],
    info: dict[str, Any],
    volume_sources: dict[str, str | None],
    color_by: str | None,
    moment: str | None = None,
) -> tuple[dict[str, Any], ngs.Legend]:
    """(state, legend) of a table whose geometries are served at ``urls`` (geometry ->
    source directory), ``info`` its main source's info (properties, extent); ``moment``
    names the moment shown (`moment_name`), if not the live rows."""
    props = [Prop.from_info(p) for p in info["properties"]]
    colour = colour_prop(props, color_by)
    legend = ngs.legend(colour)
    name = layer_name(table, filtered, moment)
    layers = ngs.volume_layers(volume_sources)
    for geometry, url in urls.items():
        label = name if geometry == lay.geometries[0] else f"{name} centres"
        layers.append(ngs.source_layer(label, url, ngs.shader(colour, legend)))
    box = info.get("extent")
    state = ngs.viewer_state(
        resolution, (box["lower"], box["upper"]) if box else None, layers, selected=name
    )
    return state, legend
