"""The upload page's 3D preview, extent warning, upload progress and result.

The deck is anno_core's `points_deck` of the checked rows (positions already scaled to the
table's unit, drawn in nm) with the table's live points in grey and rows with problems in red.
It is built once per input and frozen to its JSON, so a rerun sends the same bytes (Streamlit
then resends nothing). Progress is drawn in a fragment that reruns itself every half second
while an upload runs, and reruns the whole page once it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui import client as api
from ui import upload_state as us
from ui import upload_views as v
from ui import widgets as w
from ui.preview import EXISTING_COLOR, SINGLE_COLOR

ONE_COLOUR = "(one colour)"
POLL_SECONDS = 0.5


class FrozenDeck:
    """A built deck whose JSON is made once (st.pydeck_chart asks for it on every run)."""

    def __init__(self, deck: Any) -> None:
        self._json = deck.to_json()
        self._tooltip = getattr(deck, "_tooltip", None)
        self.layers = None

    def to_json(self) -> str:
        return self._json


def stem(name: str) -> str:
    return Path(name).stem or "upload"


# -- where the points land -------------------------------------------------------------
def existing_points(table: str, version: tuple) -> pd.DataFrame | None:
    """The table's live points (None if it has none or they may not be read)."""
    try:
        frame = us.memo(
            "existing",
            (api.connection().key(), api.volume(), table, version),
            lambda: api.client().get_point_frame(table)[0],
        )
    except api.AnnoError:
        return None
    return frame if len(frame) else None


def _frame(plan: Any, check: Any, point: str, columns: Sequence[str]) -> pd.DataFrame:
    source = check.frame
    split = [f"{point}_{a}" for a in "xyz"]
    out: dict[str, Any] = {}
    if all(c in source.columns for c in split):
        out.update({c: source[c].to_numpy() for c in split})
    else:
        out[point] = source[point].to_numpy()
    out["line"] = check.lines
    for c in columns:
        if c not in out:
            out[c] = plan.data.text(c).to_numpy()
    return pd.DataFrame(out)


def preview(
    plan: Any, check: Any, table_res: tuple, existing: pd.DataFrame | None, ctx: str, memo_key: Any
) -> Any:
    """Controls, deck, counts and legend; the PreviewInfo (None when nothing is drawn)."""
    fields = plan.spec.point_fields
    if not fields:
        ref = plan.reference_table
        st.info(
            "Rows of this schema have no positions"
            + (f": each one annotates a row of table '{w.md(ref)}'." if ref else "."),
            icon=":material/scatter_plot:",
        )
        return None
    points = [f.column for f in fields if plan.mapping.fields.get(f.column)]
    if not points:
        st.info(
            "No column holds a position yet: choose one above to see the points.",
            icon=":material/scatter_plot:",
        )
        return None
    used = set(plan.mapping.used_columns())
    pos_cols = {
        c
        for p in points
        for src in [plan.mapping.fields[p]]
        for c in ([src] if isinstance(src, str) else src)
    }
    colourable = [c for c in plan.columns if c not in pos_cols]
    scalars = [
        plan.mapping.fields[f.column]
        for f in plan.spec.user_fields
        if f.kind == "str" and isinstance(plan.mapping.fields.get(f.column), str)
    ]
    left, right = st.columns(2)
    pkey, ckey = f"up_point_{ctx}", f"up_colour_{ctx}"
    default_point = "ctr_pt_position" if "ctr_pt_position" in points else points[0]
    us.remembered(pkey, default_point, points)
    point = left.selectbox(
        "Position to draw",
        points,
        key=pkey,
        on_change=us.remember,
        args=(pkey,),
        disabled=len(points) == 1,
    )
    options = [ONE_COLOUR, *colourable]
    us.remembered(ckey, scalars[0] if scalars else ONE_COLOUR, options)
    colour = right.selectbox(
        "Colour by a column of your file", options, key=ckey, on_change=us.remember, args=(ckey,)
    )
    color_by = None if colour == ONE_COLOUR else colour
    tips = [c for c in plan.columns if c in used and c not in pos_cols][:4]
    extra = [*tips, *([color_by] if color_by and color_by not in tips else [])]

    def build() -> tuple[FrozenDeck, Any]:
        bad = np.zeros(plan.data.rows, dtype=bool)
        bad[check.report.bad_rows] = True
        deck, info = api.points_deck(
            _frame(plan, check, point, extra),
            position=point,
            resolution=table_res,
            color_by=color_by,
            tooltip_columns=("line", *tips),
            existing=existing,
            existing_position=point,
            existing_resolution=table_res,
            marked=bad,
        )
        return FrozenDeck(deck), info

    deck, info = us.memo("deck", (memo_key, point, color_by), build)
    chart, side = st.columns([5, 2])
    chart.pydeck_chart(deck, height=520, key="up_deck")
    text = info.summary() + " Drag to turn, scroll to zoom; positions in nm."
    if existing is None:
        text += " The table has no points yet to compare with."
    chart.caption(text)
    legend = list(info.legend)
    if color_by is None:
        legend.insert(
            0,
            api.LegendEntry(
                "rows of your file",
                SINGLE_COLOR,
                info.total - info.without_position - info.marked_total,
                info.drawn - info.marked_drawn,
            ),
        )
    if info.existing_total:
        legend.append(
            api.LegendEntry(
                "already in the table",
                EXISTING_COLOR[:3],
                info.existing_total,
                info.existing_drawn,
            )
        )
    with side:
        st.caption("Colours" + (f" by {w.md(color_by)}" if color_by else ""))
        st.dataframe(
            pd.DataFrame(
                {
                    "colour": [e.hex for e in legend],
                    "value": [e.label for e in legend],
                    "rows": [e.count for e in legend],
                }
            ).style.map(lambda c: f"background-color: {c}; color: {c}", subset=["colour"]),
            hide_index=True,
            key="up_legend",
            width="stretch",
            height=min(35 * (len(legend) + 1) + 3, 480),
            column_config={
                "colour": st.column_config.TextColumn("", width=24),
                "rows": st.column_config.NumberColumn(width="small", format="localized"),
            },
        )
    return info


# -- progress and result ---------------------------------------------------------------
def progress(jobs: list[Any], where: str, watched: list[Any] | None = None) -> None:
    """Progress bars of running uploads; the whole page reruns when one of them ends.
    ``watched``: the jobs the caller saw running (one may have ended since it looked: the
    page then reruns at once instead of waiting for a timer that would never be set)."""
    if watched is None:
        watched = [j for j in jobs if j.running]

    @st.fragment(run_every=POLL_SECONDS if watched else None)
    def _bars() -> None:
        for job in jobs:
            if job.running:
                st.progress(job.task.fraction, text=w.md(job.progress_text()))
        if any(not j.running for j in watched):
            st.rerun()

    with st.container(key=f"up_progress_{where}"):
        _bars()


def result_view(
    plan: Any,
    result: Any,
    file_name: str,
    *,
    key: str | None = None,
    before: bool = False,
    unchanged: int = 0,
    record: Any = None,
) -> None:
    """What was just stored, and the ids joined to the file's lines (with each id's state
    when the download is made) as a CSV download."""
    table = w.md(plan.table_name)
    if isinstance(result, dict):
        text = (
            f"Updated {v.plural(len(result), 'annotation')} in table '{table}': each "
            "has a new id, "
            "and its old version is kept as superseded."
        )
        if unchanged:
            text += (
                f" {v.plural(unchanged, 'row')} {'was' if unchanged == 1 else 'were'} the "
                "same as stored and not sent."
            )
        label = "Download old and new ids (CSV)"
    else:
        span = f", ids {min(result):,} to {max(result):,}" if result else ""
        text = f"Stored {v.plural(len(result), 'new annotation')} in table '{table}'{span}."
        label = "Download the new ids with your rows (CSV)"
    if before:  # a server that keeps no record: this process still knows the upload
        text = (
            "This file was uploaded to this table before, so nothing was stored again. "
            + text.replace("Stored", "It stored").replace("Updated", "It updated")
        )
    st.success(text, icon=":material/task_alt:")
    if record is not None and record.live != record.rows:  # changed since: say so
        st.warning(w.md("Since then: " + record.what_became()), icon=":material/history:")
    head = plan.result_table(result).slice(0, 10).to_pandas()
    st.dataframe(head, hide_index=True, width="stretch", key="up_result_rows")
    st.download_button(
        label,
        data=lambda: plan.result_csv(result, key),
        file_name=f"{stem(file_name)}_ids.csv",
        mime="text/csv",
        icon=":material/download:",
        key="up_result_download",
        on_click="ignore",
        type="primary",
    )
    st.caption(
        f"One row per line of {w.md(file_name)}: its line number, "
        + ("its id and its new id" if isinstance(result, dict) else "its new id")
        + (", whether it is live, deleted or replaced now" if key else "")
        + ", then the file's own columns."
    )


def other_uploads(jobs: list[Any]) -> None:
    """Uploads of this engine started elsewhere (another file, tab, or before a reload)."""
    if not jobs:
        return
    with st.container(border=True, key="up_others"):
        st.markdown("**Uploads on this server**")
        progress(jobs, "others")
        for job in jobs:
            if job.running:
                continue
            name, table = w.md(job.file_name), w.md(job.table)
            if job.state == "done":
                n = v.plural(len(job.task.result), "annotation")
                col, button = st.columns([4, 1], vertical_alignment="center")
                col.markdown(
                    f":material/task_alt: {name} to table {table}: "
                    f"{n} {'updated' if job.update else 'stored'}."
                )
                button.download_button(
                    "ids (CSV)",
                    key=f"up_other_{job.key[-12:]}",
                    data=lambda p=job.plan, r=job.task.result, k=job.key: p.result_csv(r, k),
                    file_name=f"{stem(job.file_name)}_ids.csv",
                    mime="text/csv",
                    on_click="ignore",
                    icon=":material/download:",
                )
            else:
                st.markdown(
                    f":material/error: {name} to table {table}: stored nothing. "
                    + w.md(job.task.error or "")
                )
