"""Metadata: edit a table's description, notice and permissions; hand it over; delete it."""

from __future__ import annotations

import streamlit as st

from ui import client as api
from ui import neuroglancer as ngui
from ui import widgets as w

just_saved = api.has_flash()
details = w.page_of_tables("Metadata")
vol = api.volume()

detail = w.table_picker(details, key="md_pick")
assert detail is not None
name = detail["table_name"]
w.notice_box(detail["notice_text"])

# -- what never changes ----------------------------------------------------------------------
with st.container(border=True, key="md_fixed"):
    f1, f2, f3 = st.columns(3)
    f1.caption("Name")
    f1.text(name)
    f2.caption("Schema")
    f2.text(detail["schema_type"])
    f3.caption("Voxel resolution")
    res = (detail["voxel_resolution_x"], detail["voxel_resolution_y"], detail["voxel_resolution_z"])
    f3.text(", ".join(w.fmt_number(v) for v in res) + " nm")
    st.caption(":material/lock: " + w.FIXED_REASON)
st.caption(f"Owner: {w.md(detail['owner_name'])}. " + w.dates_line(detail))

if not w.allowed(detail, "can_edit_metadata"):
    st.info(
        f"Only this table's owner ({w.md(detail['owner_name'])}) or an admin can change "
        "its metadata. This is what it says now:",
        icon=":material/lock:",
    )
    w.plain_block("Description", detail["description"])
    w.plain_block("Notice", detail["notice_text"])
    st.caption("Who can read")
    st.text(w.permission_line("read", detail["read_permission"]))
    st.caption("Who can write")
    st.text(w.permission_line("write", detail["write_permission"]))
    w.plain_block("Flat segmentation source", detail["flat_segmentation_source"])
    st.stop()

# -- edit ------------------------------------------------------------------------------------
# Widget keys carry the table name, so switching tables starts from that table's values.
k = f"md_{name}_{detail['last_modified']}"
st.subheader("Edit", anchor=False)
description = st.text_area(
    "Description",
    value=detail["description"],
    key=f"{k}_desc",
    height=120,
    help="Who made it, what it covers, how to read it, whom to ask.",
)
notice = st.text_area(
    "Notice",
    value=detail["notice_text"] or "",
    key=f"{k}_notice",
    height=80,
    help="A warning everyone sees first. Empty it to remove it.",
)
p1, p2 = st.columns(2)
owner_groups = w.groups_of(detail["owner_name"])
with p1:
    read = w.permission_picker("read", f"{k}_read", detail["read_permission"], owner_groups)
with p2:
    write = w.permission_picker("write", f"{k}_write", detail["write_permission"], owner_groups)
flat_seg = st.text_input(
    "Flat segmentation source", value=detail["flat_segmentation_source"] or "", key=f"{k}_flat"
)
changes = {}
if description != detail["description"]:
    changes["description"] = description
if notice.strip() != (detail["notice_text"] or "").strip():
    changes["notice_text"] = notice  # "" clears the notice
if read != detail["read_permission"]:
    changes["read_permission"] = read
if write != detail["write_permission"]:
    changes["write_permission"] = write
if flat_seg.strip() != (detail["flat_segmentation_source"] or ""):
    changes["flat_segmentation_source"] = flat_seg.strip()
if st.button("Save changes", type="primary", key="md_save", disabled=not changes):
    if "description" in changes and not description.strip():
        st.error(
            "The description cannot be empty: say who made the table, what it covers, "
            "how to read it and whom to ask."
        )
    else:
        ok, result = api.attempt(api.client().update_metadata, name, **changes)
        if ok:
            api.flash("Saved: " + ", ".join(c.replace("_", " ") for c in changes) + ".")
            st.rerun()
        st.error(w.md(result))
if changes:
    st.caption("Not saved yet: " + ", ".join(c.replace("_", " ") for c in changes) + ".")
elif not just_saved:  # right after a save, the saved message says it all
    st.caption("Nothing changed yet.")

# -- hand over -------------------------------------------------------------------------------
st.subheader("Transfer ownership", anchor=False)
st.warning(
    "The new owner alone can edit this table's metadata afterwards: only they (or an "
    "admin) can give it back.",
    icon=":material/swap_horiz:",
)
people = api.users()
others = (
    None if people is None else [u["name"] for u in people if u["name"] != detail["owner_name"]]
)
if others == []:
    st.caption(
        "There is no other user to hand it to yet. An admin adds users with "
        "'python -m anno_core users add NAME'."
    )
else:
    if others is None:  # a server that does not list its users
        new_owner = st.text_input("New owner (user id or name)", key=f"{k}_owner").strip()
    else:
        new_owner = st.selectbox(
            "New owner", others, index=None, key=f"{k}_owner", placeholder="Choose a user"
        )
    sure = st.checkbox("I understand that I cannot undo this myself", key=f"{k}_sure")
    if st.button("Transfer ownership", key="md_transfer", disabled=not (new_owner and sure)):
        ok, result = api.attempt(api.client().update_metadata, name, user_id=new_owner)
        if ok:
            api.flash(f"'{w.md(name)}' now belongs to {w.md(new_owner)}.")
            st.rerun()
        st.error(w.md(result))

# -- delete ----------------------------------------------------------------------------------
if w.allowed(detail, "can_delete"):
    st.subheader("Delete table", anchor=False)
    with st.container(border=True, key="md_delete_box"):
        st.markdown(
            "Deleting hides the table from every list. Its rows are **kept** (nothing is "
            "ever erased) and its name stays taken. Only admins can do this."
        )
        typed = st.text_input(
            "Type the table's name to confirm", key=f"{k}_typed", placeholder=name
        )
        if st.button(
            "Delete table",
            type="primary",
            key="md_delete",
            disabled=typed.strip() != name,
            icon=":material/delete:",
        ):
            ok, result = api.attempt(api.client().delete_table, name)
            if ok:
                api.set_current_table(None)
                api.flash(f"Table '{w.md(name)}' is deleted; its rows are kept.")
                st.rerun()
            st.error(w.md(result))

ngui.volume_layers()
