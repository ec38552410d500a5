"""The Tables page's summary of one table: the most frequent values of each text field with
their counts, and a histogram of each number field, computed by the database
(`AnnotationClient.summarize_table`) and kept until the table changes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import widgets as w
from ui.table_views import table_version

TOP = 10
BINS = 20


@st.cache_data(show_spinner="Summarising the table...", max_entries=32, ttl=3600)
def _summary(conn: tuple, volume: str | None, table: str, version: tuple) -> dict[str, Any]:
    return api.client_for(conn, volume).summarize_table(table, top=TOP, bins=BINS)


def _number(v: float) -> str:
    return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.0f}"


def render(detail: dict) -> None:
    """Top values per text field and a histogram per number field of ``detail``'s table."""
    name = detail["table_name"]
    version = table_version(detail)
    try:
        got = _summary(api.connection().key(), api.session_volume(), name, version)
    except api.NotSupported as refusal:
        st.caption(w.md(str(refusal)))
        return
    except api.AnnoError as refusal:
        st.error(w.md(str(refusal)), icon=":material/error:")
        return
    if not got["text"] and not got["numbers"]:
        st.caption("This table's fields are positions only: see them in 3D below.")
        return
    rows = got["rows"]
    if got.get("sampled") is not None:  # a large table: its fixed sample, as in 3D below
        rows = got["sampled"]
        st.caption(
            f"From a fixed random sample of {rows:,} of the {got['rows']:,} live rows (among "
            "those the 3D view draws), counted by the database: the most frequent values of "
            "each text field and how each number field is spread. Counts are the sample's."
        )
    else:
        st.caption(
            f"Over the {rows:,} live rows, counted by the database: the most frequent values "
            "of each text field and how each number field is spread."
        )
    cols = st.columns(2)
    for i, (field, top) in enumerate(got["text"].items()):
        with cols[i % 2]:
            st.markdown(f"**{w.md(field)}**")
            frame = pd.DataFrame(top["values"], columns=["value", "rows"])
            st.dataframe(
                frame,
                hide_index=True,
                width="stretch",
                key=f"tables_top_{field}",
                column_config={
                    "value": st.column_config.TextColumn(width="medium"),
                    "rows": st.column_config.ProgressColumn(
                        format="localized", min_value=0, max_value=max(rows, 1)
                    ),
                },
            )
            notes = []
            if top["more"]:
                notes.append(f"other values beyond the top {TOP}")
            if top["empty"]:
                notes.append(f"{top['empty']:,} empty")
            if notes:
                st.caption("; ".join(notes).capitalize() + ".")
    for field, hist in got["numbers"].items():
        st.markdown(f"**{w.md(field)}**")
        if not hist["bins"]:
            st.caption("Every row leaves it empty.")
            continue
        frame = pd.DataFrame(
            {
                "from": [_number(b[0]) for b in hist["bins"]],
                "rows": [b[2] for b in hist["bins"]],
            }
        )
        frame["from"] = pd.Categorical(frame["from"], categories=frame["from"], ordered=True)
        st.bar_chart(frame, x="from", y="rows", height=180)
        st.caption(
            f"From {_number(hist['min'])} to {_number(hist['max'])} in {len(hist['bins'])} "
            f"equal bins" + (f"; {hist['empty']:,} empty" if hist["empty"] else "") + "."
        )
