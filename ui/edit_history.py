"""The Edit page's history of one annotation: every version, oldest first, who, when, what.

Values are shown in dataframes and ``st.text``: text people typed is never Markdown here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import client as api
from ui import edit_grid as grid
from ui import widgets as w


def _who(version: dict, role: str) -> str:
    name = version.get(f"{role}_name") or version.get(role)
    return "someone unknown" if name in (None, "") else str(name)


def state_sentence(version: dict) -> str:
    """What became of one version, in words (anno_core decides which state it is in)."""
    state = api.state_of(version)
    if state.replaced_by is not None:
        return f"Replaced by annotation {state.replaced_by}."
    if state.deleted_at is not None:
        why = version.get("gone")
        said = f"Deleted {w.when(state.deleted_at)} by {_who(version, 'deleted_by')}"
        return said + (f": {why}." if why and why != "deleted" else ".")
    return "In use (live)." if state.live else "Not in use."


def render(table: str) -> None:
    """The id box and, for a given id, its versions."""
    ss = st.session_state
    if "ed_hist_next" in ss:  # a save just made this id: show its story
        ss["ed_hist_id"] = ss.pop("ed_hist_next")
    aid = st.number_input(
        "Annotation id",
        min_value=1,
        step=1,
        value=None,
        key="ed_hist_id",
        placeholder="an id from the rows, e.g. 12",
        help="Any version's id works: old, newest or deleted.",
    )
    if aid is None:
        st.caption(
            "Type the id of an annotation to see every version of it: when it was "
            "made, by whom, and what each change changed. Nothing is ever erased."
        )
        return
    ok, versions = api.attempt(api.client().get_history_changes, table, int(aid))
    if not ok:
        st.error(w.md(versions), icon=":material/error:")
        return
    newest = versions[-1]
    st.caption(
        f"Annotation {int(aid)} has {len(versions)} version"
        f"{'s' if len(versions) != 1 else ''}, oldest first. The newest is "
        f"annotation {newest['id']}: {state_sentence(newest)}"
    )
    for n, v in enumerate(versions, 1):
        with st.container(border=True, key=f"ed_version_{n}"):
            head, tail = st.columns([3, 2])
            head.markdown(f"**Version {n}** · id {v['id']}")
            made = v.get("made")
            head.text(
                f"Created {w.when(v['created'])} by {_who(v, 'created_by')}"
                + (f": {made}." if made and made != "uploaded" else ".")
            )
            tail.text(state_sentence(v))
            if n == 1:
                st.caption("The first version, as it was made.")
            elif v["changes"]:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "column": [c["field"] for c in v["changes"]],
                            "before": [grid.show(c["old"]) for c in v["changes"]],
                            "after": [grid.show(c["new"]) for c in v["changes"]],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                    key=f"ed_changes_{n}",
                )
            else:
                st.caption("No value changed in this version.")
    values = pd.DataFrame(
        {
            f"version {n} (id {v['id']})": [grid.show(x) for x in v["values"].values()]
            for n, v in enumerate(versions, 1)
        },
        index=list(versions[0]["values"]),
    )
    st.caption("Values of every version")
    st.dataframe(values, width="stretch", key="ed_history_values")
