"""Step 4 of the Upload page: how to read the file's numbers. The unit of its positions (the
table's own, nm, the voxel sizes of public data sets by name, or any other) and whether it
writes decimals with a comma. Choices are remembered by the file's layout (`upload_state.
layout`), so a corrected file keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui import client as api
from ui import upload_state as us
from ui import widgets as w

SAME = "same as the table"
NM = "nm"
OTHER_UNIT = "other voxel size"
POINT = "1.5 (decimal point)"
COMMA = "1,5 (decimal comma)"


def _label(name: str, res: Sequence[float]) -> str:
    return f"{name} ({', '.join(w.fmt_number(float(v)) for v in res)} nm)"


def same_label(table_res: Sequence[float]) -> str:
    return _label(SAME, table_res)


def units(table_res: tuple[float, float, float]) -> dict[str, tuple[float, ...]]:
    """The named units offered: the table's own, nm, and the public data sets' voxels."""
    out: dict[str, tuple[float, ...]] = {same_label(table_res): table_res, NM: (1.0, 1.0, 1.0)}
    for name, res in api.DATASETS:
        out[_label(name, res)] = tuple(res)
    return out


def unit_picker(table_res: tuple[float, float, float], ctx: str) -> tuple[float, ...]:
    """The unit of the file's positions (default: the table's), with what it means."""
    named = units(table_res)
    options = [*named, OTHER_UNIT]
    key = f"up_unit_{ctx}"
    us.remembered(key, same_label(table_res), options)
    choice = st.radio(
        "Unit of the positions in your file",
        options,
        key=key,
        horizontal=True,
        on_change=us.remember,
        args=(key,),
        help="Spreadsheets from a viewer like Neuroglancer usually hold voxel coordinates of "
        "the data set they come from (hemibrain: 8 x 8 x 8 nm; FAFB, FlyWire and MICrONS: "
        "4 x 4 x 40 nm; H01: 8 x 8 x 33 nm); analysis scripts often write nm.",
    )
    if choice == OTHER_UNIT:
        cols = st.columns(3)
        res = []
        for col, axis, default in zip(cols, "xyz", table_res, strict=True):
            k = f"{key}_{axis}"
            us.remembered(k, float(default))
            res.append(
                float(
                    col.number_input(
                        f"{axis} (nm per unit)",
                        min_value=0.001,
                        step=1.0,
                        format="%g",
                        key=k,
                        on_change=us.remember,
                        args=(k,),
                    )
                )
            )
        resolution = tuple(res)
    else:
        resolution = named[choice]
    text = w.resolution_sentence(resolution)
    ok, factors = api.attempt(api.scale_factor, resolution, table_res)  # refused: said below
    if ok and factors is not None:
        text += (
            f" The table stores {', '.join(w.fmt_number(v) for v in table_res)} nm "
            "voxels, so each position is converted when stored: x times "
            f"{factors[0]:.4g}, y times {factors[1]:.4g}, z times {factors[2]:.4g}."
        )
    elif ok:
        text += " That is the table's own unit: positions are stored as they are."
    st.caption(text)
    return resolution


def choose_unit(table_res: Sequence[float], ctx: str, resolution: Sequence[float]) -> None:
    """on_click of 'use this unit': pick the option that reads the file in ``resolution``."""
    key = f"up_unit_{ctx}"
    target = tuple(float(v) for v in resolution)
    for label, res in units(tuple(float(v) for v in table_res)).items():  # type: ignore[arg-type]
        if tuple(res) == target:
            us.set_choice(key, label)
            return
    for axis, v in zip("xyz", target, strict=True):
        us.set_choice(f"{key}_{axis}", v)
    us.set_choice(key, OTHER_UNIT)


def decimal_picker(ctx: str) -> bool:
    """Whether the file writes decimals with a comma (1,5): a reading the person chooses."""
    key = f"up_decimal_{ctx}"
    us.remembered(key, POINT, [POINT, COMMA])
    choice = st.radio(
        "Decimals in your file are written",
        [POINT, COMMA],
        key=key,
        horizontal=True,
        on_change=us.remember,
        args=(key,),
        help="Spreadsheets in German, French and many other locales write 1,5 for one and a "
        "half; with the decimal comma, 1.234,5 reads as 1234.5.",
    )
    return choice == COMMA


def use_decimal_comma(ctx: str) -> None:
    """on_click of 'read decimal commas': switch the reading."""
    us.set_choice(f"up_decimal_{ctx}", COMMA)
