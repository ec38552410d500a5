"""The Upload page when the file was uploaded to this table before: when, by whom, as which
ids, and what became of them (anno_core's `UploadRecord`), the ids with their state as a
download, and "Upload these rows again as new annotations" behind a confirmation. Old ids
are never shown as a new upload.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import upload_state as us
from ui import widgets as w
from ui.upload_preview import stem


def earlier(plan: Any, past: list[tuple[str, Any]], file_name: str, digest: str) -> None:
    """What the earlier upload(s) of this file stored and what became of those rows."""
    key, record = past[-1]
    st.subheader("Uploaded before", anchor=False)
    text = w.md(record.sentence(plan.table_name))
    if record.live == record.rows:
        st.info(text, icon=":material/history:")
    else:
        st.warning(text, icon=":material/history:")
    if len(past) > 1:
        st.caption(
            f"This file was uploaded {len(past)} times on purpose; the latest is above. "
            + " ".join(f"Upload {n}: {w.md(r.short())}." for n, (_, r) in enumerate(past[:-1], 1))
        )
    head = plan.result_frame(record.result, record.states()).head(10)
    st.dataframe(head, hide_index=True, width="stretch", key="up_before_rows")
    st.download_button(
        "Download these ids with your rows and their state (CSV)",
        data=lambda: plan.result_csv(record.result, key),
        file_name=f"{stem(file_name)}_ids.csv",
        mime="text/csv",
        icon=":material/download:",
        key="up_before_download",
        on_click="ignore",
    )
    st.caption(
        f"One row per line of {w.md(file_name)}: its line number, its id, whether that "
        "annotation is live, deleted or replaced by a newer one, then the file's columns."
    )
    if record.update:
        return
    with st.container(border=True, key="up_again_box"):
        st.markdown("**Upload these rows again as new annotations**")
        st.caption(
            f"The {record.rows:,} rows get new ids; the annotations above stay as they are. "
            "Do this only if you mean to have them twice (or their first copies are deleted)."
        )
        sure = st.checkbox(
            f"Yes, store the {record.rows:,} rows of {file_name} again, as new annotations",
            key=f"up_again_sure_{digest[:12]}",
        )
        st.button(
            "Upload these rows again as new annotations",
            key="up_again",
            icon=":material/replay:",
            disabled=not sure,
            on_click=us.upload_again,
            args=(digest,),
        )
