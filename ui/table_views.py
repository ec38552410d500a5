"""What the Tables page reads of one table through the session's client: its first rows
(now or at a moment) and the 3D view of its sample (cached until the table changes)."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui.preview import MAX_POINTS, PreviewInfo, points_deck


def table_version(detail: dict) -> tuple:
    """What changes when a table's rows or metadata change: the key of reads cached per table."""
    return (
        detail.get("total_count"),
        detail.get("live_count"),
        detail.get("last_modified"),
        detail.get("last_data_change"),
    )


@st.cache_resource(show_spinner="Reading the table's points...", max_entries=6, ttl=3600)
def _deck(
    key: tuple,
    table: str,
    point_field: str,
    color_by: str | None,
    resolution: tuple[float, float, float],
) -> tuple[Any, PreviewInfo]:
    conn, vol = key[0], key[1]
    c = api.client_for(conn, vol)
    # At most MAX_POINTS rows, chosen by the database (the same every time): the deck draws
    # them all, whatever the size of the table.
    frame, _, _ = c.get_point_frame(
        table, limit=MAX_POINTS, columns=[color_by] if color_by else None
    )
    return points_deck(
        frame,
        position=point_field,
        resolution=resolution,
        color_by=color_by,
        tooltip_columns=("id",),
    )


def table_deck(
    detail: dict, point_field: str, color_by: str | None = None
) -> tuple[Any, PreviewInfo]:
    """The 3D view of a table's live points: a fixed sample of at most MAX_POINTS rows the
    database picks (cached until the table changes)."""
    resolution = (
        float(detail["voxel_resolution_x"]),
        float(detail["voxel_resolution_y"]),
        float(detail["voxel_resolution_z"]),
    )
    key = (api.connection().key(), api.session_volume(), table_version(detail))
    return _deck(key, detail["table_name"], point_field, color_by, resolution)


def sample_rows(
    table: str, limit: int = 20, timestamp: Any = None, version: Any = None
) -> pd.DataFrame:
    """The first live rows of a table (as they were at a moment, if one is given), with
    the columns people read; ``attrs["notice"]`` says when the table did not exist yet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.AnnoWarning)  # the page shows attrs["notice"]
        frame = api.client().query_annotations(
            table, limit=limit, timestamp=timestamp, version=version
        )
    hidden = {"deleted", "superceded_id", "valid", "deleted_by", "created_by"}
    shown = frame[[c for c in frame.columns if c not in hidden]]
    shown.attrs = dict(frame.attrs)
    return shown
