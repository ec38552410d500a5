"""Tables: every table of the aligned volume; one table's metadata, rows and points in 3D."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import client as api
from ui import export_views as ex
from ui import neuroglancer as ngui
from ui import table_summary
from ui import table_views as tv
from ui import widgets as w

details = w.page_of_tables("Tables")
vol = api.volume()

# -- the list ----------------------------------------------------------------------------
schemas = sorted({d["schema_type"] for d in details})
left, right = st.columns([2, 1])
query = left.text_input(
    "Filter by text",
    key="tables_filter",
    placeholder="part of a name, description, owner or notice",
    live=True,  # filters as you type (a pause of a quarter second reruns the page)
)
wanted = right.multiselect("Schema", schemas, key="tables_schemas", placeholder="all schemas")


def _matches(d: dict) -> bool:
    if wanted and d["schema_type"] not in wanted:
        return False
    q = query.strip().lower()
    if not q:
        return True
    haystack = " ".join(
        str(d.get(k) or "")
        for k in ("table_name", "description", "owner_name", "notice_text", "schema_type")
    )
    return q in haystack.lower()


shown = [d for d in details if _matches(d)]
listing = pd.DataFrame(
    {
        "table": [d["table_name"] for d in shown],
        "schema": [d["schema_type"] for d in shown],
        "owner": [d["owner_name"] for d in shown],
        "live rows": [d["live_count"] for d in shown],
        "all rows": [d["total_count"] for d in shown],
        "read": [d["read_permission"] for d in shown],
        "write": [d["write_permission"] for d in shown],
        "created": pd.to_datetime([d.get("created") for d in shown], errors="coerce"),
        "last modified": pd.to_datetime([d.get("last_modified") for d in shown], errors="coerce"),
        **w.data_change_column(shown),
        "notice": [d["notice_text"] or "" for d in shown],
    }
)
st.dataframe(
    listing,
    hide_index=True,
    width="stretch",
    key="tables_list",
    column_config={
        "live rows": st.column_config.NumberColumn(
            help="Annotations in use (not deleted, not replaced by a newer version)",
            format="localized",
        ),
        "all rows": st.column_config.NumberColumn(
            help="Every version ever stored, deleted and replaced ones included",
            format="localized",
        ),
        "read": st.column_config.TextColumn(help="Who can read the annotations"),
        "write": st.column_config.TextColumn(help="Who can add, change or delete them"),
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "last modified": st.column_config.DatetimeColumn(
            format="YYYY-MM-DD HH:mm", help="The last change of its metadata"
        ),
        "last data change": st.column_config.DatetimeColumn(
            format="YYYY-MM-DD HH:mm", help="The last annotation added, changed or deleted"
        ),
    },
)
hidden = any(d.get("can_read") is False for d in shown)
st.caption(
    f"{len(shown):,} of {len(details):,} tables in aligned volume '{w.md(vol)}'."
    + (" Empty row counts: you may not read that table." if hidden else "")
)
if not shown:
    st.info(
        "No table matches the filter; clear it to see all tables.", icon=":material/filter_alt_off:"
    )
    st.stop()

# -- one table ---------------------------------------------------------------------------
st.divider()
detail = w.table_picker(shown, key="tables_pick", label="Open a table")
assert detail is not None
name = detail["table_name"]
st.header(w.md(name), anchor=False)
w.notice_box(detail["notice_text"])

w.facts(
    {
        "Schema": detail["schema_type"],
        "Owner": detail["owner_name"],
        "Live rows": w.count(detail["live_count"]),
        "All rows": w.count(detail["total_count"]),
    }
)

info, side = st.columns([3, 2])
with info:
    w.plain_block("Description", detail["description"])
with side:
    res = (detail["voxel_resolution_x"], detail["voxel_resolution_y"], detail["voxel_resolution_z"])
    st.caption("Who can read")
    st.text(w.permission_line("read", detail["read_permission"]))
    st.caption("Who can write")
    st.text(w.permission_line("write", detail["write_permission"]))
    st.caption("Voxel resolution")
    st.text(f"{', '.join(w.fmt_number(v) for v in res)} nm. " + w.resolution_sentence(res))
    if detail["reference_table"]:
        w.plain_block("Annotates rows of table", detail["reference_table"])
    if detail["flat_segmentation_source"]:
        w.plain_block("Flat segmentation source", detail["flat_segmentation_source"])
    st.caption(w.dates_line(detail))
if w.allowed(detail, "can_edit_metadata"):
    st.page_link(
        "pages/metadata.py", label="Edit this table's metadata", icon=":material/edit_note:"
    )

# -- rows and points ---------------------------------------------------------------------
st.subheader("Rows", anchor=False)
if detail.get("can_read") is False:
    st.info(
        f"You may not read this table's rows: its read permission is "
        f"{w.permission_line('read', detail['read_permission'])}. Ask its owner, "
        f"{w.md(detail['owner_name'])}.",
        icon=":material/lock:",
    )
    st.stop()
live = w.rows_of(detail)
if not live and not detail.get("total_count"):
    st.info("This table has no annotations yet.", icon=":material/inbox:")
    st.stop()
pick, new = st.columns([5, 1], vertical_alignment="bottom")
with pick:
    moment = ex.moment_picker("tables_moment")
with new:
    ex.version_form("tables_version")
at = {"timestamp": moment["timestamp"], "version": moment["version"]}
past = moment["label"] != "now"
with api.errors_shown():
    if past:
        live = api.client().count_annotations(name, **at)
    sample = tv.sample_rows(name, limit=20, **at)
    if sample.attrs.get("notice"):
        st.info(w.md(sample.attrs["notice"]), icon=":material/history:")
    st.dataframe(sample, hide_index=True, width="stretch", key="tables_sample")
    when = f" at {moment['label']}" if past else ""
    st.caption(
        f"The first {len(sample):,} of {live or 0:,} live rows{when}; positions in the "
        "table's voxels."
    )
if st.toggle("Download", key="tables_dl_on", help="Export the whole table to a file"):
    ex.download_panel(name, "tables_dl", moment=moment)

st.subheader("Summary", anchor=False)
table_summary.render(detail)

ngui.open_table(detail, moment)

st.subheader("Points in 3D", anchor=False)
fields = api.client().schema_fields(detail["schema_type"])
points = sorted(f["name"] for f in fields if f["type"].startswith("position"))
if not points:
    st.info(
        f"Rows of schema '{w.md(detail['schema_type'])}' have no positions"
        + (
            f": each one annotates a row of table '{w.md(detail['reference_table'])}'."
            if detail["reference_table"]
            else "."
        ),
        icon=":material/scatter_plot:",
    )
    st.stop()
c1, c2 = st.columns(2)
point = c1.selectbox(
    "Position", points, key="tables_point", help="Which point of each annotation to draw"
)
scalars = ["(one colour)"] + sorted(
    f["name"] for f in fields if not f["type"].startswith("position")
)
picked = c2.selectbox("Colour by", scalars, key="tables_color")
color_by = None if picked == scalars[0] else picked
if past:
    st.caption("The 3D view shows the table's live rows now.")
with api.errors_shown():
    deck, preview = tv.table_deck(detail, point, color_by)
    st.pydeck_chart(deck, height=520, key="tables_deck")
    sampled = preview.total < live
    st.caption(
        preview.summary()
        + (
            f" They are a fixed random sample of the {live:,} live rows, chosen by the "
            "database (the same every time)"
            + ("; the legend counts the sample." if preview.legend else ".")
            if sampled
            else ""
        )
        + " Drag to turn, scroll to zoom; positions in nm."
    )
    if preview.legend:
        legend = pd.DataFrame(
            {
                "colour": [e.hex for e in preview.legend],
                "value": [e.label for e in preview.legend],
                "rows": [e.count for e in preview.legend],
                "drawn": [e.drawn for e in preview.legend],
            }
        )
        st.dataframe(
            legend.style.map(lambda c: f"background-color: {c}; color: {c}", subset=["colour"]),
            hide_index=True,
            key="tables_legend",
            width=560,
        )
