"""Upload: drop a CSV, map its columns, see its problems and its points in 3D, upload safely.

Nothing is stored until the person clicks Upload, and then all rows or none. The upload runs
in a thread owned by the server (ui.upload_jobs), so clicks, page switches and reloads do not
stop it; its key (file content, table, mode) makes a second submit return the first one's ids.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from ui import client as api
from ui import handoff
from ui import neuroglancer as ngui
from ui import upload_before as before
from ui import upload_columns as columns
from ui import upload_extent as extent
from ui import upload_jobs as uj
from ui import upload_preview as up
from ui import upload_state as us
from ui import upload_unit as unit_choice
from ui import upload_views as v
from ui import widgets as w

MODE_UPDATE = "Update the annotations named in the id column"
MODE_ADD = "Add the rows as new annotations"
EXAMPLE = "up_example"
MODE_HELP = {
    MODE_UPDATE: "each row replaces the stored annotation with its id (the old version is "
    "kept); only rows that differ are sent",
    MODE_ADD: "each row becomes a new annotation that keeps the id given (ids already in the "
    "table are refused)",
}


def _on_example() -> None:
    picked = st.session_state.get(EXAMPLE)
    example = next((e for e in us.EXAMPLES if e.file == picked), None)
    if example is not None:
        us.hold(example.file, us.example_bytes(example), "example")
        us.reset_uploader()


def _on_drop() -> None:
    if st.session_state.get(us.uploader_key()) is None:  # the person removed the file
        us.release()


def _submit() -> None:
    ready = st.session_state.get("up_ready")
    if not ready:
        return
    key, scope, send, whole, name, unchanged = ready
    _, started = uj.jobs().submit(
        key, scope, send, file_name=name, unchanged=unchanged, whole=whole
    )
    us.submitted(key)
    if not started:
        api.flash("This file was already submitted: it is stored once, never twice.", "info")


st.title("Upload")
api.show_flash()
scope = (api.connection().key(), api.volume())
registry = uj.jobs()
top = st.container()

# -- 1. table ------------------------------------------------------------------------------
details: list[dict] = []
with api.errors_shown():
    details = api.table_details()
if not details:
    w.empty_tables(api.volume())
    st.stop()
st.subheader("1. Table", anchor=False)
left, right = st.columns([3, 2], vertical_alignment="bottom")
with left:
    detail = w.table_picker(details, key="up_table", label="Table to upload to")
assert detail is not None
if right.button("Create a new table instead", key="up_create", icon=":material/add_box:"):
    handoff.start_create(return_to="pages/upload.py")  # it comes back here with the new table
    st.switch_page("pages/create_table.py")
table = detail["table_name"]
table_res = tuple(float(detail[f"voxel_resolution_{a}"]) for a in "xyz")
w.notice_box(detail["notice_text"])
w.facts(
    {
        "Schema": detail["schema_type"],
        "Voxel resolution": f"{', '.join(w.fmt_number(x) for x in table_res)} nm",
        "Live rows": w.count(w.rows_of(detail)),
        "Who can write": detail["write_permission"] or "unknown",
    }
)
can_write = w.allowed(detail, "can_write")
if not can_write:
    st.warning(
        f"You may not add to table '{w.md(table)}': "
        f"{w.permission_line('write', detail['write_permission'])}. You can still "
        "check a file here; ask its owner, "
        f"{w.md(detail['owner_name'] or 'unknown')}, to upload it.",
        icon=":material/lock:",
    )

# -- 2. file -------------------------------------------------------------------------------
st.subheader("2. File", anchor=False)
held = us.held()
drop, pick = st.columns([3, 2])
dropped = drop.file_uploader(
    "Drop a CSV file" if held is None else "Drop another CSV file to replace it",
    key=us.uploader_key(),
    on_change=_on_drop,
    help="Exported from a spreadsheet or a script: comma, semicolon or tab separated, "
    "UTF-8 or Windows encoding; up to a few million rows.",
)
if dropped is not None and (held is None or held.file_id != dropped.file_id):
    held = us.hold(dropped.name, dropped.getvalue(), "dropped", dropped.file_id)
    st.session_state[EXAMPLE] = None
pick.selectbox(
    "...or try an example file",
    [e.file for e in us.EXAMPLES],
    index=None,
    key=EXAMPLE,
    on_change=_on_example,
    placeholder="Choose an example",
)
shown = next(
    (
        e
        for e in us.EXAMPLES
        if held is not None and held.source == "example" and held.name == e.file
    ),
    None,
)
if shown is not None:
    pick.caption(f"{shown.about}. For a table of schema '{shown.schema}'.")
ngui.paste_state()
if held is None:
    st.info(
        f"Drop a CSV file above, or try an example. Table '{w.md(table)}' takes rows of "
        f"schema '{w.md(detail['schema_type'])}': the template lists its columns.",
        icon=":material/upload_file:",
    )
    st.download_button(
        "Download a CSV template",
        data=api.csv_template(detail["schema_type"]),
        file_name=f"{detail['schema_type']}_template.csv",
        mime="text/csv",
        icon=":material/download:",
        key="up_template",
    )
    with top:
        up.other_uploads(registry.of_scope(scope))
    st.stop()
st.markdown(f":material/description: **{w.md(held.name)}** ({held.size})")
st.button(
    "Remove this file",
    key="up_remove",
    on_click=us.release,
    icon=":material/close:",
    type="tertiary",
)
try:
    data = ngui.read_held(held, table)
except api.AnnoError as refusal:
    st.error(w.md(str(refusal)), icon=":material/block:")
    report = getattr(refusal, "report", None)
    if report is not None and len(report.frame) > 1:
        v.report_view(report, up.stem(held.name), "up_read_report")
    st.caption("Nothing was stored. Fix the file and drop it again.")
    with top:
        up.other_uploads(registry.of_scope(scope))
    st.stop()

has_id = any(c.strip().lower() == "id" for c in data.columns)
update = False
if has_id:
    mkey = f"up_mode_{us.layout(table, data.columns, False)}"
    us.remembered(mkey, MODE_UPDATE, [MODE_UPDATE, MODE_ADD])
    update = (
        st.radio(
            "Your file has an id column. What should its rows do?",
            [MODE_UPDATE, MODE_ADD],
            key=mkey,
            on_change=us.remember,
            args=(mkey,),
            format_func=lambda m: w.option_label(m, MODE_HELP[m]),
        )
        == MODE_UPDATE
    )
ctx = hashlib.sha256(repr((held.digest, scope, table, update)).encode()).hexdigest()[:12]
lay = us.layout(table, data.columns, update)  # choices are remembered by the file's layout
try:
    base = us.memo(
        "plan", ctx, lambda: api.client().open_upload(table, data, update=update, name=held.name)
    )
except api.AnnoError as error:
    st.error(w.md(str(error)))
    st.stop()

# -- earlier uploads of this file to this table, one running or done: their story --------
version = (detail.get("live_count"), detail.get("total_count"), detail.get("last_modified"))
past = us.memo(
    "past", (ctx, version, registry.version(scope)), lambda: base.past_uploads(held.digest)
)
key = base.upload_key(held.digest, len(past) + 1)  # the next upload of this file, if wanted
job = registry.get(key)
mine = past and us.was_submitted(past[-1][0])  # this session just stored it: news
if job is None and mine:
    key, job = past[-1][0], registry.get(past[-1][0])
if job is not None and job.running:
    us.submitted(key)  # this session watches it: its end is news here too
    st.subheader("Uploading", anchor=False)
    st.info(
        "The upload runs on the server: you can click elsewhere, open other pages "
        "or reload; come back here to see it end.",
        icon=":material/cloud_upload:",
    )
    up.progress([job], "mine", watched=[job])  # seen running above, even if done now
    with top:
        up.other_uploads([j for j in registry.of_scope(scope) if j.key != key])
    st.stop()
if mine or (past and not us.again(held.digest)) or (job is not None and job.state != "failed"):
    if mine and job is not None:
        st.subheader("Stored", anchor=False)
        up.result_view(
            job.plan,
            job.task.result,
            held.name,
            key=key,
            unchanged=job.unchanged,
            record=past[-1][1],
        )
    elif mine:
        st.subheader("Stored", anchor=False)
        up.result_view(base, past[-1][1].result, held.name, key=key, record=past[-1][1])
    elif past:
        before.earlier(base, past, held.name, held.digest)
    else:  # a server that keeps no record of uploads: this process still knows it
        st.subheader("Stored", anchor=False)
        up.result_view(job.plan, job.task.result, held.name, before=True)
    b1, b2 = st.columns([1, 3])
    b1.button(
        "Upload another file", key="up_another", on_click=us.release, icon=":material/upload_file:"
    )
    b2.page_link("pages/tables.py", label=f"Open table {w.md(table)}", icon=":material/table_view:")
    with top:
        up.other_uploads([j for j in registry.of_scope(scope) if j.key != key])
    st.stop()
if past:  # confirmed: the same rows again, as new annotations
    st.info(
        f"This file was uploaded before ({w.md(past[-1][1].short())}). "
        "Its rows are uploaded again as new annotations, with new ids.",
        icon=":material/replay:",
    )

# -- 3. columns ----------------------------------------------------------------------------
st.subheader("3. Columns", anchor=False)
st.caption(ngui.data_caption(data))
st.dataframe(data.head(8), width="stretch", key="up_head")
changes = v.mapping_editor(base, lay)
plan = base.remap(changes) if changes else base
columns.not_kept(plan, held.digest)

# -- 4. unit -------------------------------------------------------------------------------
st.subheader("4. Reading the numbers", anchor=False)
resolution = unit_choice.unit_picker(table_res, lay)
decimal_comma = unit_choice.decimal_picker(lay)
ok, scaled = api.attempt(
    plan.with_resolution, None if tuple(resolution) == table_res else resolution
)
if not ok:
    st.error(w.md(scaled), icon=":material/straighten:")
    st.stop()
plan = scaled.with_decimal_comma(decimal_comma)

# -- 5. check ------------------------------------------------------------------------------
st.subheader("5. Check", anchor=False)
check_key = (ctx, repr(sorted(plan.mapping.to_dict().items())), tuple(resolution), decimal_comma)
try:
    check = us.memo("check", check_key, plan.check)
except api.AnnoError as error:  # e.g. the reference table could not be read
    st.error(w.md(str(error)), icon=":material/error:")
    st.stop()
if check.ok:
    st.success(w.md(check.summary()), icon=":material/check_circle:")
elif check.waiting:  # a step to do, not a fault of the file
    st.info(w.md(check.summary()), icon=":material/arrow_upward:")
else:
    st.error(w.md(check.summary()), icon=":material/error:")
if not decimal_comma and "decimal_comma" in set(check.report.errors["kind"]):
    st.button(
        "Read numbers with a decimal comma (1,5 is one and a half)",
        key="up_use_comma",
        icon=":material/swap_horiz:",
        on_click=unit_choice.use_decimal_comma,
        args=(lay,),
    )
if not check.waiting:
    v.report_view(check.report, up.stem(held.name), "up_report")

diff = None
if update and check.ok:
    st.markdown("**What the update changes**")
    with api.errors_shown():
        diff = us.memo("diff", (check_key, version), plan.diff_update)
        v.diff_view(diff, up.stem(held.name))

# -- 6. preview ----------------------------------------------------------------------------
st.subheader("6. Where the points land", anchor=False)
existing = up.existing_points(table, version) if detail.get("can_read") is not False else None
volume = extent.volume_extent(table, version) if existing is None else None
above = st.container()  # the extent warning goes above the deck it is about
info = up.preview(plan, check, table_res, existing, lay, (check_key, version))
with above:
    extent.extent_warning(plan, info, table_res, lay, volume)
compared = extent.compared_with(info, volume)
if compared:
    st.caption(compared)
if existing is None:
    extent.bounds_editor(volume)
ngui.open_file(plan, check, ctx, lay)

# -- 7. upload -----------------------------------------------------------------------------
st.subheader("7. Upload", anchor=False)
if job is not None:  # failed: nothing stored; say why, and allow another try
    st.error(
        w.md(job.task.error or "The upload failed; nothing was stored."), icon=":material/block:"
    )
    if job.task.report is not None:
        v.report_view(job.task.report, up.stem(held.name), "up_failed_report")
go = plan.submission(check, diff, may_write=can_write)  # anno_core decides; the page draws
label = (
    f"Update {v.plural(go.rows, 'annotation')} in table {w.md(table)}"
    if update
    else f"Upload {v.plural(go.rows, 'row')} {'again ' if past else ''}to table {w.md(table)}"
)
st.session_state["up_ready"] = (key, scope, go.send, plan, held.name, go.unchanged)
st.button(
    label,
    type="primary",
    key="up_submit",
    disabled=not go.ready,
    on_click=_submit,
    icon=":material/cloud_upload:",
)
for reason in go.blockers:
    st.caption(w.md(reason))
if go.ready:
    st.caption(
        "All rows are stored in one transaction, or none. Submitting the same "
        "file to the same table again returns the same ids and stores nothing."
    )
with top:
    up.other_uploads([j for j in registry.of_scope(scope) if j.key != key])
