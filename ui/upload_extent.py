"""Where a file's points land against where they should: the table's own points, or for a
table with none yet the aligned volume's (its other tables' points, the bounds an admin set).
A warning names the likely unit mistake with a button that applies the fix; admins set the
volume's bounds here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import client as api
from ui import upload_state as us
from ui import upload_unit as unit_choice
from ui import widgets as w


def volume_extent(table: str, version: tuple) -> dict | None:
    """The aligned volume's extent (its bounds, its tables' points) for a table with no
    points yet; None where the backend cannot say (a real CAVE)."""
    try:
        return us.memo(
            "volume_extent",
            (api.connection().key(), api.volume(), table, version),
            lambda: api.client().get_volume_extent(),
        )
    except api.AnnoError:
        return None


def extent_warning(
    plan: Any, info: Any, table_res: tuple, ctx: str, volume: dict | None = None
) -> Any:
    """The 2x extent check against the table's points (or, for a table with none yet, the
    aligned volume's); a button for the likely unit."""
    if info is None:
        return None
    if info.existing_extent_nm is not None:
        found = plan.compare_extents(info.extent_nm, info.existing_extent_nm)
    else:
        found = plan.compare_with_volume(info.extent_nm, volume)
    if found is None or found.ok:
        return found
    st.warning(found.message(), icon=":material/straighten:")
    if found.resolution is not None:
        unit = ", ".join(w.fmt_number(x) for x in found.resolution)
        st.button(
            f"Read the file's positions as {unit} nm",
            key="up_use_unit",
            icon=":material/swap_horiz:",
            on_click=unit_choice.choose_unit,
            args=(table_res, ctx, found.resolution),
        )
    return found


def compared_with(info: Any, volume: dict | None) -> str:
    """What the file's points are compared with, for the caption under the deck."""
    if info is None or info.existing_extent_nm is not None:
        return ""
    if volume and volume.get("points"):
        n = len(volume.get("tables") or [])
        return (
            f" The table has no points yet: the file is compared with those of {n} other "
            f"table{'s' if n != 1 else ''} of this aligned volume."
        )
    if volume and volume.get("bounds"):
        return (
            " The table has no points yet: the file is compared with the bounds of the "
            "aligned volume."
        )
    return (
        " The table and its aligned volume have no points yet, and no bounds are set: "
        "nothing to compare the file with."
    )


def bounds_editor(volume: dict | None) -> None:
    """Admins set the aligned volume's bounds (nm), which uploads into empty tables meet."""
    me = us.memo("whoami", (api.connection().key(),), lambda: api.client().whoami())
    if volume is None or not me.get("is_admin"):
        return
    bounds = volume.get("bounds")
    label = "Bounds of aligned volume '" + api.volume() + "' (nm)"
    with st.expander(label + (": not set" if bounds is None else ""), expanded=False):
        st.caption(
            "Admins set how far the volume reaches; a file whose points fall outside is "
            "flagged with the unit that would bring them inside."
        )
        lo, hi = bounds or ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        cols = st.columns(6)
        got = []
        for i, (end, corner) in enumerate((("min", lo), ("max", hi))):
            for j, axis in enumerate("xyz"):
                got.append(
                    cols[i * 3 + j].number_input(
                        f"{axis} {end}",
                        value=float(corner[j]),
                        format="%g",
                        key=f"up_b_{end}{axis}",
                    )
                )
        if st.button("Save the bounds", key="up_bounds_save", icon=":material/save:"):
            ok, result = api.attempt(api.client().set_volume_bounds, got[:3], got[3:])
            if ok:
                us.forget("volume_extent")
                api.flash("Saved the bounds of the aligned volume.")
                st.rerun()
            st.error(w.md(result), icon=":material/error:")
