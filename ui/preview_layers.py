"""The pieces of a 3D preview deck: point layers with tooltips, the bounding box, compact JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pydeck as pdk

SINGLE_COLOR = (0, 114, 178)
EXISTING_COLOR = (150, 150, 150, 110)
MARKED_COLOR = (220, 38, 38)
BOUNDS_COLOR = (170, 170, 170)
AXIS_COLOR = (110, 110, 110)


class PreviewDeck(pdk.Deck):
    """A Deck whose JSON is compact (pydeck indents it: 3x the bytes for 100,000 points)."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def coord(v: float, digits: int = 3) -> str:
    """A coordinate as a person writes it: at most ``digits`` decimals, no float noise
    (2903.2, never 2903.2000000000003)."""
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def triple(values: Sequence[float], digits: int = 3) -> str:
    return "[" + ", ".join(coord(v, digits) for v in values) + "]"


def tooltips(
    frame: pd.DataFrame, rows: np.ndarray, columns: Sequence[str], nm: np.ndarray, res: np.ndarray
) -> list[str]:
    """A tooltip line per drawn row: the chosen columns, then the position labelled in the
    table's voxels and in nm."""
    parts: list[pd.Series] = []
    for c in columns:
        if c in frame.columns:
            vals = frame[c].iloc[rows].astype("string").fillna("")
            parts.append(f"{c}: " + vals.reset_index(drop=True))
    unit = " x ".join(coord(v) for v in res)
    given = nm / res
    voxels = f"voxels ({unit} nm): " if not np.all(res == 1) else ""
    pos = pd.Series(
        [
            (f"{voxels}{triple(g)}\n" if voxels else "") + f"nm: {triple(n, 1)}"
            for g, n in zip(given.tolist(), nm.tolist(), strict=True)
        ],
        dtype="string",
    )
    parts.append(pos)
    text = parts[0]
    for p in parts[1:]:
        text = text + "\n" + p
    return text.tolist()


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)


def length(nm: float) -> str:
    """A length in nm as '120 nm', '4.5 µm' or '1.2 mm'."""
    a = abs(nm)
    if a >= 1e6:
        return f"{coord(nm / 1e6)} mm"
    if a >= 1e3:
        return f"{coord(nm / 1e3)} µm"
    return f"{coord(nm)} nm"


def axis_layers(lo: np.ndarray, hi: np.ndarray, center: np.ndarray) -> list[pdk.Layer]:
    """Ticks with labels in nm (µm, mm) along the three box edges that meet at the lowest
    corner, and the axis names at their ends: the scale of what is drawn."""
    ticks, labels = [], []
    span = float(np.max(hi - lo)) or 1.0
    mark = span * 0.015  # tick length: a small share of the box
    for j, axis in enumerate("xyz"):
        other = (j + 1) % 3  # ticks stick out along the next axis
        step = nice_step(float(hi[j] - lo[j]))
        first = np.ceil(lo[j] / step) * step
        values = np.arange(first, hi[j] + step * 1e-9, step) if hi[j] > lo[j] else [lo[j]]
        for v in values:
            at = lo.copy()
            at[j] = v
            end = at.copy()
            end[other] -= mark
            ticks.append({"s": _r(at - center), "e": _r(end - center)})
            text_at = at.copy()
            text_at[other] -= 3 * mark
            labels.append({"p": _r(text_at - center), "t": length(float(v))})
        tip = lo.copy()
        tip[j] = hi[j] + 4 * mark
        labels.append({"p": _r(tip - center), "t": axis})
    return [
        pdk.Layer(
            "LineLayer",
            data=ticks,
            id="axis-ticks",
            get_source_position="s",
            get_target_position="e",
            get_color=list(AXIS_COLOR),
            get_width=1,
            pickable=False,
        ),
        pdk.Layer(
            "TextLayer",
            data=labels,
            id="axis-labels",
            get_position="p",
            get_text="t",
            get_size=12,
            size_units=pdk.types.String("pixels"),
            get_color=list(AXIS_COLOR),
            character_set=pdk.types.String("auto"),
            font_family=pdk.types.String("sans-serif"),
            billboard=True,
            pickable=False,
        ),
    ]


def _r(v: np.ndarray) -> list[float]:
    return [round(float(x), 1) for x in v]


def layer_data(centered: np.ndarray, tips: list[str]) -> list[dict]:
    pts = np.round(centered, 1).tolist()
    return [{"p": p, "t": t} for p, t in zip(pts, tips, strict=True)]


def point_layer(
    layer_id: str, data: list[dict], color: Sequence[int], radius: float, pickable: bool = True
) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer",
        data=data,
        id=layer_id,
        get_position="p",
        get_fill_color=list(color),
        get_radius=radius,
        radius_units=pdk.types.String("pixels"),
        billboard=True,
        pickable=pickable,
        stroked=False,
    )


def bounds_layer(lo: np.ndarray, hi: np.ndarray) -> pdk.Layer:
    corners = [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    edges = [
        (0, 1),
        (0, 2),
        (0, 4),
        (1, 3),
        (1, 5),
        (2, 3),
        (2, 6),
        (3, 7),
        (4, 5),
        (4, 6),
        (5, 7),
        (6, 7),
    ]
    data = [
        {"s": [round(v, 1) for v in corners[a]], "e": [round(v, 1) for v in corners[b]]}
        for a, b in edges
    ]
    return pdk.Layer(
        "LineLayer",
        data=data,
        id="bounds",
        get_source_position="s",
        get_target_position="e",
        get_color=list(BOUNDS_COLOR),
        get_width=1,
        pickable=False,
    )
