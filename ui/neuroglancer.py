"""Neuroglancer on the pages: one self-contained call each.

- `open_table(detail, moment)` (Tables page: the table as the page shows it, now or at the
  moment picked) and `open_view(detail, filters)` (Edit page: live rows): *Open in
  Neuroglancer* (the viewer this computer or the server serves, in a new tab), coloured by
  a chosen text field with its legend, and *Copy a shareable link*;
- `paste_state()` and `read_held(held, table)` (Upload page): a pasted Neuroglancer link or
  state taken as the file, one annotation layer read as rows;
- `open_file(plan, check, ctx)` (Upload page): the file's points before upload, problems red;
- `volume_layers()` (Metadata page): the aligned volume's image and segmentation layers.

Links are made by the session's client (so they act as the session's user) and kept in the
session until the table changes.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from ui import client as api
from ui import upload_state as us
from ui.text import md

ONE_COLOUR = "(one colour)"
_LINKS = "ng_links"
PASTED = "neuroglancer"


def _memo(key: tuple, make: Any) -> Any:
    """``make()`` once per key in this browser session (the last 8 kept)."""
    store: dict = st.session_state.setdefault(_LINKS, {})
    if key not in store:
        store[key] = make()
        while len(store) > 8:
            store.pop(next(iter(store)))
    return store[key]


def _colourable(schema: str) -> list[str]:
    fields = api.client().schema_fields(schema)
    return [f["name"] for f in fields if f["type"].startswith(("text", "true/false"))]


def _legend(legend: Any, key: str) -> None:
    if not legend.entries:
        return
    frame = pd.DataFrame(
        {"colour": [c for _, c in legend.entries], "value": [v for v, _ in legend.entries]}
    )
    st.dataframe(
        frame.style.map(lambda c: f"background-color: {c}; color: {c}", subset=["colour"]),
        hide_index=True,
        key=key,
        width=360,
        height=min(35 * (len(frame) + 1) + 3, 320),
        column_config={"colour": st.column_config.TextColumn("", width=24)},
    )


def _buttons(detail: dict, filters: dict | None, key: str, moment: dict | None = None) -> None:
    table = detail["table_name"]
    version = (detail.get("live_count"), detail.get("total_count"), detail.get("last_modified"))
    at = {k: (moment or {}).get(k) for k in ("timestamp", "version")}
    when = repr(sorted(at.items()))
    scope = (api.connection().key(), api.volume(), table, version, json.dumps(filters or {}), when)
    colour_col, open_col, share_col = st.columns([2, 1.3, 1.5], vertical_alignment="bottom")
    options = [ONE_COLOUR, *_colourable(detail["schema_type"])]
    picked = colour_col.selectbox("Colour in Neuroglancer by", options, key=f"{key}_colour")
    color_by = None if picked == ONE_COLOUR else picked
    try:  # cheap: a signed address; the state is built when the browser follows it
        url = _memo(
            (*scope, color_by, "open"),
            lambda: api.client().neuroglancer_open_url(table, filters, color_by=color_by, **at),
        )
    except api.AnnoError as refusal:
        st.caption(md(str(refusal)))
        return
    open_col.link_button(
        "Open in Neuroglancer", url, icon=":material/open_in_new:", width="stretch"
    )
    shared = share_col.button(
        "Copy a shareable link", key=f"{key}_share", icon=":material/share:", width="stretch"
    )
    past = at["timestamp"] is not None or at["version"] is not None
    st.caption(
        "Opens the Neuroglancer viewer served from here in a new tab (nothing is fetched "
        "from outside)"
        + (f", showing the table at {md((moment or {}).get('label', ''))}" if past else "")
        + "; positions in nm, the view centred on the points."
    )
    if color_by:
        with api.errors_shown(), st.spinner(f"Reading the values of {color_by}..."):
            legend = _memo(
                (*scope, color_by, "legend"),
                lambda: api.client().neuroglancer_legend(table, color_by, filters, **at),
            )
            _legend(legend, f"{key}_legend")
    if shared or st.session_state.get(f"{key}_shared") == scope:
        st.session_state[f"{key}_shared"] = scope
        with api.errors_shown():
            share = _memo(
                (*scope, color_by, "share"),
                lambda: api.client().neuroglancer_link(
                    table, filters, color_by=color_by, share=True, **at
                ),
            )
            st.code(share.url, language=None, wrap_lines=True)
            if share.inline:
                st.caption(
                    "The points are inside the link, so it opens anywhere: copy it with the "
                    "button at its right."
                )
            else:
                st.warning(md(share.note or ""), icon=":material/public:")


def open_table(detail: dict, moment: dict | None = None) -> None:
    """Tables page: the table in Neuroglancer, as it is or at the page's ``moment``
    (`export_views.moment_picker`)."""
    if detail.get("can_read") is False or not _colourable_or_points(detail):
        return
    st.subheader("Neuroglancer", anchor=False)
    _buttons(detail, None, "ng_table", moment)


def open_view(detail: dict, filters: dict | None) -> None:
    """Edit page: the rows the filters select (all live rows without filters)."""
    if detail.get("can_read") is False or not _colourable_or_points(detail):
        return
    with st.expander("Open these rows in Neuroglancer", icon=":material/view_in_ar:"):
        if filters:
            st.caption("Every live row the filters select, not only this page.")
        _buttons(detail, filters, "ng_edit")


def _colourable_or_points(detail: dict) -> bool:
    fields = api.client().schema_fields(detail["schema_type"])
    return any(f["type"].startswith("position") for f in fields)


# -- the upload page ----------------------------------------------------------------------
def _hold_state(text: str, layer: str | None) -> None:
    """Hold a pasted state with its chosen layer: both make the 'file' (and its upload key:
    another layer of the same state is another upload)."""
    raw = json.dumps({"neuroglancer": text, "layer": layer}).encode("utf-8")
    name = "Neuroglancer state" + (f", layer '{layer}'" if layer else "")
    us.hold(name, raw, PASTED)


def paste_state() -> None:
    """A place to paste a Neuroglancer link or state; taken as the file once read."""
    with st.expander("...or paste a Neuroglancer link or state", icon=":material/link:"):
        text = st.text_area(
            "Neuroglancer link or state JSON",
            key="up_ng_text",
            height=100,
            placeholder='https://.../#!{...}  or  {"layers": [...]}',
            help="The address bar of a Neuroglancer tab, or the state from its {} button. "
            "Its annotation layers (points, lines, boxes, ellipsoids) become rows, like a CSV.",
        )
        if st.button("Use this state", key="up_ng_use", disabled=not text.strip()):
            try:
                layers = api.client().neuroglancer_layers(text)
            except api.AnnoError as refusal:
                st.error(md(str(refusal)), icon=":material/block:")
                return
            readable = [lyr.name for lyr in layers if lyr.local]
            if not readable:
                st.error(
                    "This state has no annotation layer kept in the state itself (drawn in "
                    "Neuroglancer); only those can be imported.",
                    icon=":material/block:",
                )
                return
            _hold_state(text.strip(), readable[0])
            us.reset_uploader()
            st.rerun()


def read_held(held: Any, table: str) -> Any:
    """The held file as rows: a CSV read as it is, or the chosen layer of a pasted state
    (picked here) with positions in the table's voxels."""
    if held.source != PASTED:
        return us.memo("read", held.digest, lambda: api.client().read_csv(held.raw, name=held.name))
    pasted = json.loads(held.raw)
    text, layer = pasted["neuroglancer"], pasted["layer"]
    names = [lyr.name for lyr in api.client().neuroglancer_layers(text) if lyr.local]
    if len(names) > 1:
        st.selectbox(
            "Annotation layer to upload",
            names,
            index=names.index(layer) if layer in names else 0,
            key=f"up_ng_layer_{held.digest[:12]}",
            on_change=lambda: _hold_state(
                text, st.session_state.get(f"up_ng_layer_{held.digest[:12]}")
            ),
        )
    return us.memo(
        "read",
        (held.digest, table),
        lambda: api.client().read_neuroglancer(
            text, table, layer=layer, name=f"Neuroglancer layer '{layer}'"
        ),
    )


def data_caption(data: Any) -> str:
    """What was read, for step 3."""
    if data.encoding == "a Neuroglancer state":
        return (
            f"{data.rows:,} annotations and {len(data.columns)} columns, read from "
            f"{md(data.name)}; positions converted to the table's voxels with the state's own "
            "coordinate space. Line numbers count the layer's annotations from 1."
        )
    return (
        f"{data.rows:,} rows and {len(data.columns)} columns, read as {data.encoding} with "
        f"{data.delimiter_name} delimiters. Line numbers are your spreadsheet's "
        "(the header is line 1)."
    )


def open_file(plan: Any, check: Any, ctx: str, lay: str) -> None:
    """The file's points before upload in Neuroglancer (rows with a problem in red); ``ctx``
    names the file and table, ``lay`` the choices kept for its layout (the preview's colour)."""
    if not plan.spec.point_fields:
        return
    colour = st.session_state.get(f"up_colour_{lay}")
    color_by = colour if colour in plan.columns else None
    # what the check depends on: the file and table (ctx), the mapping, the unit
    key = (ctx, repr(sorted(plan.mapping.to_dict().items())), plan.annotation_resolution, color_by)
    if st.button("Open in Neuroglancer", key="up_ng_open", icon=":material/view_in_ar:"):
        st.session_state["up_ng_for"] = key
    if st.session_state.get("up_ng_for") != key:
        st.caption(
            "Shows every row of the file in the Neuroglancer viewer served from here, over "
            "the table's points (grey); rows with a problem in red."
        )
        return
    try:
        link = _memo(
            ("file", *key),
            lambda: api.client().neuroglancer_file_link(plan, check, color_by=color_by),
        )
    except api.AnnoError as refusal:
        st.error(md(str(refusal)), icon=":material/error:")
        return
    st.link_button("Open the viewer in a new tab", link.url, icon=":material/open_in_new:")
    _legend(link.legend, "up_ng_legend")


# -- the metadata page --------------------------------------------------------------------
def volume_layers() -> None:
    """The aligned volume's image and segmentation layers (admins change them)."""
    vol = api.volume()
    st.subheader("Neuroglancer layers of this aligned volume", anchor=False)
    try:
        now = api.client().get_volume_sources()
    except api.AnnoError as refusal:
        st.caption(md(str(refusal)))
        return
    st.caption(
        "Drawn under every table of aligned volume "
        f"'{md(vol)}' when it opens in Neuroglancer (they load from wherever they are)."
    )
    admin = bool(api.client().whoami().get("is_admin"))
    k = f"ng_layers_{vol}"
    image = st.text_input(
        "Image source",
        value=now.get("image_source") or "",
        key=f"{k}_image",
        disabled=not admin,
        placeholder="precomputed://https://example.org/em",
    )
    seg = st.text_input(
        "Segmentation source",
        value=now.get("segmentation_source") or "",
        key=f"{k}_seg",
        disabled=not admin,
        placeholder="precomputed://https://example.org/segmentation",
    )
    if not admin:
        st.caption("Only admins can change them.")
        return
    changed = (image.strip(), seg.strip()) != (
        now.get("image_source") or "",
        now.get("segmentation_source") or "",
    )
    if st.button("Save the layers", key="ng_layers_save", disabled=not changed):
        ok, result = api.attempt(
            api.client().set_volume_sources, image.strip() or None, seg.strip() or None
        )
        if ok:
            api.flash("Saved the aligned volume's Neuroglancer layers.")
            st.rerun()
        st.error(md(result))
