"""Picking a moment (now, a version, a date) and the Download panel of the Tables and Edit
pages: format, positions, units; a signed link the browser downloads the file with, straight
from a server that streams it; a progress bar that follows that download."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from ui import client as api
from ui import local_server
from ui.text import md

FORMATS = {
    "parquet": "Parquet (pandas, R, most analysis tools; keeps the table's metadata)",
    "csv": "CSV (spreadsheets; the columns an upload takes back)",
    "feather": "Feather (fast to load in pandas and R)",
}
NOW, VERSION, DATE = "Now", "A version", "A date and time (UTC)"
RENEW_BEFORE = 300  # seconds: a link about to expire is issued again


def versions() -> list[dict] | None:
    """The volume's versions, or None where the backend has none (a real CAVE)."""
    try:
        return api.client().list_versions()
    except api.NotSupported:
        return None


def _version_label(v: dict) -> str:
    return (
        f"{v['name']} ({v['timestamp'][:16].replace('T', ' ')} UTC, by "
        f"{v['created_by_name']}): {v['description']}"
    )


def moment_picker(key: str) -> dict[str, Any]:
    """Now, a version or a date: ``{"timestamp": ..., "version": ..., "label": ...}``."""
    found = versions()
    kinds = [NOW, DATE] if found is None else [NOW, VERSION, DATE]
    kind = st.radio("Show the table", kinds, key=f"{key}_kind", horizontal=True)
    if kind == VERSION:
        if not found:
            st.caption("No versions yet: a version names a moment (create_version in Python).")
            return {"timestamp": None, "version": None, "label": "now"}
        names = [v["name"] for v in found]
        picked = st.selectbox(
            "Version",
            names,
            key=f"{key}_version",
            format_func=lambda n: md(_version_label(next(v for v in found if v["name"] == n))),
        )
        return {"timestamp": None, "version": picked, "label": f"version {picked}"}
    if kind == DATE:
        now = datetime.now(UTC)
        c1, c2 = st.columns(2)
        day = c1.date_input("Date (UTC)", value=now.date(), max_value=now.date(), key=f"{key}_day")
        hour = c2.time_input(
            "Time (UTC)", value=now.time().replace(microsecond=0), key=f"{key}_time"
        )
        moment = datetime.combine(day, hour)
        return {"timestamp": moment, "version": None, "label": f"{moment:%Y-%m-%d %H:%M} UTC"}
    return {"timestamp": None, "version": None, "label": "now"}


def version_form(key: str) -> None:
    """Name this moment of the volume as a version, saying why (any user may)."""
    with st.popover("New version", icon=":material/bookmark_add:"):
        with st.form(f"{key}_form", border=False):
            name = st.text_input("Name", key=f"{key}_name", placeholder="e.g. paper-2024")
            why = st.text_input(
                "Why", key=f"{key}_why", placeholder="e.g. the rows of Smith et al. 2024"
            )
            st.caption("A version names this moment of every table of the aligned volume.")
            if st.form_submit_button(
                "Name this moment", icon=":material/bookmark:", key=f"{key}_make"
            ):
                ok, made = api.attempt(api.client().create_version, name.strip(), why)
                if ok:
                    api.flash(f"Version {made['name']} names {made['timestamp']} UTC.")
                    st.rerun()
                st.error(md(made), icon=":material/error:")


def _link(table: str, options: dict[str, Any]) -> dict[str, Any]:
    """A signed link for these options, issued again only when they change or it expires."""
    store = st.session_state.setdefault("export_links", {})
    key = (api.connection().key(), api.volume(), table, repr(sorted(options.items())))
    link = store.get(key)
    if link is None or link["valid_until"] - time.time() < RENEW_BEFORE:
        link = dict(api.client().export_link(table, **options))
        link["url"] = local_server.absolute(link["url"])
        expires = datetime.fromisoformat(link["expires"]).replace(tzinfo=UTC)
        link["valid_until"] = expires.timestamp()
        store[key] = link
    return link


def download_panel(
    table: str,
    key: str,
    *,
    moment: dict[str, Any] | None = None,
    filters: dict | None = None,
    ids: list[int] | None = None,
    include_history: bool = False,
    what: str = "the whole table",
    pick_moment: bool = False,
) -> None:
    """The Download panel: choices (and the moment, with ``pick_moment``), the link, and
    the progress of its download."""
    with st.container(border=True, key=f"{key}_box"):
        if pick_moment:
            moment = moment_picker(f"{key}_moment")
        st.caption(
            f"Download {what}"
            + (f" as it was at {moment['label']}" if moment and moment["label"] != "now" else "")
            + "."
        )
        c1, c2, c3 = st.columns([2, 1, 1])
        fmt = c1.selectbox(
            "Format", list(FORMATS), key=f"{key}_format", format_func=lambda f: FORMATS[f]
        )
        positions = c2.radio(
            "Positions",
            ["split", "list"],
            key=f"{key}_positions",
            format_func=lambda p: "x, y, z columns" if p == "split" else "[x, y, z] in one column",
        )
        units = c3.radio(
            "Units",
            ["voxels", "nm"],
            key=f"{key}_units",
            format_func=lambda u: "voxels (as stored)" if u == "voxels" else "nm",
        )
        options: dict[str, Any] = {
            "format": fmt,
            "positions": positions,
            "units": units,
            "filters": filters or None,
            "ids": ids or None,
            "include_history": include_history,
            "timestamp": (moment or {}).get("timestamp"),
            "version": (moment or {}).get("version"),
        }
        ok, link = api.attempt(_link, table, options)
        if not ok:
            st.error(md(link), icon=":material/error:")
            return
        st.link_button(
            f"Download {link['filename']}",
            link["url"],
            icon=":material/download:",
            type="primary",
        )
        st.caption(
            "The file is written while it downloads, chunk by chunk, however large the table."
            + (
                " Text starting with = + - @ gets a leading ' so spreadsheets show it as text."
                if fmt == "csv"
                else ""
            )
        )
        _progress(link["link_id"])


@st.fragment(run_every=1.0)
def _progress(link_id: str) -> None:
    """How far the browser's download of this link has got (asked every second)."""
    got = api.client().export_progress(link_id)
    if got is None:
        st.caption("Click Download to start; its progress shows here.")
        return
    rows, total = int(got["rows"]), int(got["total"])
    if got["state"] == "failed":
        st.error(md(got.get("message") or "The download failed."), icon=":material/error:")
    elif got["state"] == "done":
        st.progress(1.0, text=f"Downloaded: {rows:,} rows.")
    else:
        share = rows / total if total else 0.0
        st.progress(min(share, 1.0), text=f"Downloading: {rows:,} of {total:,} rows.")
