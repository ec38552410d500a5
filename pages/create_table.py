"""Create table: pick a schema, name and describe the table, confirm what can never change."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import client as api
from ui import handoff
from ui import widgets as w

DESCRIPTION_HINT = (
    "Who made it, what it covers, how to read it, whom to ask. For example: "
    "'Excitatory synapses onto 81 layer 2/3 pyramidal cells, found by hand by "
    "Agnes in 2024; size is the cleft area in voxels. Ask agnes@lab.org.'"
)
TRACK_HELP = (
    "When an annotation of the reference table is updated (and so gets a new id), "
    "the rows here that point at it follow the new id automatically."
)

st.title("Create table")
api.show_flash()
c = api.client()
vol = api.volume()
st.caption(
    f"A new, empty table in aligned volume '{w.md(vol)}'. Fill it on the upload "
    "page or from Python."
    + (
        " Once it is created you go back to Upload with it chosen."
        if handoff.create_return() == "pages/upload.py"
        else ""
    )
)

# -- schema --------------------------------------------------------------------------------
schema = st.selectbox(
    "Schema",
    c.schema_names(),
    index=None,
    key="ct_schema",
    placeholder="Choose a schema (type to search)",
    help="The kind of annotation: which fields each row has.",
)
if schema is None:
    st.info(
        "Choose a schema to see its fields: for example 'synapse' for synapses, "
        "'cell_type_local' for cell types at a point, 'bound_tag' for free tags.",
        icon=":material/schema:",
    )
    st.stop()
fields = sorted(c.schema_fields(schema), key=lambda f: (not f["required"], f["name"]))
st.dataframe(
    pd.DataFrame(
        {
            "field": [f["name"] for f in fields],
            "type": [f["type"] for f in fields],
            "required": [f["required"] for f in fields],
            "description": [f["description"] for f in fields],
        }
    ),
    hide_index=True,
    width="stretch",
    key="ct_fields",
)
st.download_button(
    "Download CSV template",
    data=api.csv_template(schema),
    file_name=f"{schema}_template.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ct_template",
    help="An empty CSV with the columns an upload of this schema needs; "
    "positions go in x, y and z columns.",
)
is_reference = c.is_reference_schema(schema)

# -- name and description ------------------------------------------------------------------
st.subheader("Name and description", anchor=False)
name = st.text_input(
    "Table name",
    key="ct_name",
    max_chars=100,
    placeholder="e.g. my_synapses_v1",
    help="Lower-case letters, digits and underscores; it can never change.",
)
name_problem = None
if name:
    ok, name_problem = api.attempt(c.table_name_problem, name)
    if not ok:
        st.error(w.md(name_problem))
    elif name_problem:
        st.error(w.md(name_problem), icon=":material/block:")
    else:
        st.caption(f":material/check_circle: '{w.md(name)}' is free.")
description = st.text_area(
    "Description",
    key="ct_description",
    placeholder=DESCRIPTION_HINT,
    help="Required. " + DESCRIPTION_HINT,
    height=110,
)

# -- units, reference, permissions ---------------------------------------------------------
st.subheader("Positions", anchor=False)
resolution = w.resolution_picker("ct_res")
reference, track = None, False
if is_reference:
    st.subheader("Reference table", anchor=False)
    others = w.readable_tables()
    if not others:
        st.warning(
            "Rows of this schema annotate rows of another table, and this volume has "
            "no tables yet: create that table first.",
            icon=":material/link_off:",
        )
    reference = st.selectbox(
        "Table whose rows these annotate",
        others,
        index=None,
        key="ct_reference",
        placeholder="Choose a table",
        help="target_id in each row is the id of a row of this table.",
    )
    track = st.checkbox("Follow updates of the referenced rows", key="ct_track", help=TRACK_HELP)
    st.caption(TRACK_HELP)
st.subheader("Permissions", anchor=False)
p1, p2 = st.columns(2)
me = api.attempt(c.whoami)[1]  # the owner of the new table: in a group or not?
my_groups = tuple(me.get("groups") or ()) if isinstance(me, dict) else None
with p1:
    read = w.permission_picker("read", "ct_read", owner_groups=my_groups)
with p2:
    write = w.permission_picker("write", "ct_write", owner_groups=my_groups)
st.subheader("Optional", anchor=False)
notice = st.text_area(
    "Notice",
    key="ct_notice",
    height=80,
    placeholder="A warning everyone sees first, e.g. 'Being proofread: do not use before June.'",
)
flat_seg = st.text_input(
    "Flat segmentation source",
    key="ct_flat",
    placeholder="e.g. precomputed://gs://bucket/segmentation",
    help="Where the segmentation these points refer to lives.",
)

request = {
    "table_name": name,
    "schema_name": schema,
    "description": description,
    "voxel_resolution": list(resolution),
    "reference_table": reference,
    "track_target_id_updates": track if is_reference else None,
    "flat_segmentation_source": flat_seg.strip() or None,
    "write_permission": write,
    "read_permission": read,
    "notice_text": notice.strip() or None,
}


def _problems() -> list[str]:
    out = []
    if not name:
        out.append("Give the table a name.")
    elif name_problem:
        out.append(name_problem)
    if not description.strip():
        out.append("Write a description: " + DESCRIPTION_HINT)
    if is_reference and not reference:
        out.append("Choose the table whose rows these annotate.")
    return out


# -- review and create ---------------------------------------------------------------------
st.divider()
review = st.session_state.get("ct_review")
if review is not None and review != request:  # changed after review: review again
    st.session_state.pop("ct_review", None)
    review = None
if review is None:
    if st.button("Review and create", type="primary", key="ct_review_button"):
        problems = _problems()
        if problems:
            for p in problems:
                st.error(w.md(p))
        else:
            st.session_state["ct_review"] = request
            st.rerun()
else:
    with st.container(border=True, key="ct_confirm"):
        st.markdown("**Check before creating.** These can never change:")
        st.text(
            f"Name: {name}\nSchema: {schema}\nVoxel resolution: "
            f"{', '.join(w.fmt_number(v) for v in resolution)} nm"
        )
        st.caption(w.resolution_sentence(resolution))
        st.markdown("You can change these later on the metadata page:")
        st.text(
            f"Who can read: {w.permission_line('read', read)}\n"
            f"Who can write: {w.permission_line('write', write)}\n"
            + (f"Annotates rows of: {reference}\n" if reference else "")
            + f"Notice: {request['notice_text'] or '(none)'}"
        )
        with st.container(horizontal=True):
            create = st.button("Create table", type="primary", key="ct_create")
            back = st.button("Change something", key="ct_back")
    if back:
        st.session_state.pop("ct_review", None)
        st.rerun()
    if create:
        ok, result = api.attempt(c.create_table, **review)
        if ok:
            for key in [k for k in st.session_state if str(k).startswith("ct_")]:
                del st.session_state[key]
            api.flash(f"Table '{w.md(result)}' created. It is empty: upload rows to fill it.")
            st.switch_page(handoff.created(result))  # back to Upload when it sent us here
        st.session_state.pop("ct_review", None)
        st.error(w.md(result))
