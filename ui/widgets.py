"""Form pieces and displays the pages share, so every page explains things the same way.

Text people typed (descriptions, notices) is only ever shown with ``st.text`` or inside
dataframes: never as Markdown or HTML, so ``<script>`` and ``**bold**`` stay plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui import client as api
from ui import handoff
from ui.text import md  # noqa: F401 - pages use w.md

PRESETS = {
    "4, 4, 40 nm": (4.0, 4.0, 40.0),
    "8, 8, 40 nm": (8.0, 8.0, 40.0),
    "1, 1, 1 nm": (1.0, 1.0, 1.0),
}
CUSTOM = "custom"
PRESET_HELP = {
    "4, 4, 40 nm": "MICrONS, FlyWire: positions in 4 x 4 x 40 nm voxels",
    "8, 8, 40 nm": "positions in 8 x 8 x 40 nm voxels (a downsampled image)",
    "1, 1, 1 nm": "positions are already in nanometres",
    CUSTOM: "any other voxel size",
}
FIXED_REASON = (
    "Name, schema and voxel resolution can never change: the stored positions "
    "and every program that reads this table depend on them. To change one, "
    "create a new table and upload the rows again."
)


def fmt_number(v: float) -> str:
    return f"{v:g}"


def resolution_sentence(res: Sequence[float]) -> str:
    """What one unit of a position means, in words."""
    x, y, z = (fmt_number(float(v)) for v in res)
    if all(float(v) == 1 for v in res):
        return "Positions are in nanometres: [100, 100, 10] is 100, 100 and 10 nm."
    ex = [100 * float(res[0]), 100 * float(res[1]), 10 * float(res[2])]
    return (
        f"One unit is {x} nm in x, {y} nm in y and {z} nm in z: a point at "
        f"[100, 100, 10] lies at {ex[0]:g}, {ex[1]:g} and {ex[2]:g} nm."
    )


def resolution_picker(key: str) -> tuple[float, float, float]:
    """Preset or custom voxel resolution, with the sentence saying what a unit means."""
    choice = st.radio(
        "Voxel resolution (nm per unit of the positions)",
        [*PRESETS, CUSTOM],
        key=f"{key}_preset",
        horizontal=True,
        format_func=lambda k: option_label(k, PRESET_HELP[k]),
    )
    if choice == CUSTOM:
        cols = st.columns(3)
        res = tuple(
            float(
                col.number_input(
                    f"{axis} (nm)",
                    min_value=0.001,
                    value=default,
                    step=1.0,
                    format="%g",
                    key=f"{key}_{axis}",
                )
            )
            for col, axis, default in zip(cols, "xyz", (4.0, 4.0, 40.0), strict=True)
        )
    else:
        res = PRESETS[choice]
    st.caption(resolution_sentence(res))
    return res  # type: ignore[return-value]


def option_label(option: str, explained: str) -> str:
    """A radio option with its explanation in grey inside its own label, so clicking the
    words picks the option (a radio's captions sit outside the clickable label)."""
    return f"{md(option)} :gray[{md(explained)}]"


def permission_picker(
    kind: str,
    key: str,
    current: str | None = None,
    owner_groups: Sequence[str] | None = None,
) -> str:
    """Radio of PRIVATE / GROUP / PUBLIC for ``kind`` (read or write), each explained in its
    own label (so a click anywhere on the words picks it); GROUP warns when the owner is in
    no group (``owner_groups`` empty; None: not known)."""
    default = current or ("PUBLIC" if kind == "read" else "PRIVATE")
    options = list(api.PERMISSIONS)
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    help_of = api.PERMISSION_HELP[kind]
    picked = st.radio(
        f"Who can {kind}",
        options,
        key=key,
        format_func=lambda p: option_label(p, help_of[p]),
    )
    if picked == "GROUP" and owner_groups is not None and not owner_groups:
        st.warning(
            f"The owner is in no group, so GROUP lets only the owner (and admins) {kind}: "
            "as PRIVATE. An admin adds groups with 'python -m anno_core users add NAME "
            "--group LAB'.",
            icon=":material/group_off:",
        )
    return picked


def groups_of(user_name: str | None) -> tuple[str, ...] | None:
    """The groups of a user of the engine (None where they cannot be listed: a server)."""
    people = api.users()
    if people is None:
        return None
    found = next((u for u in people if u.get("name") == user_name), None)
    return None if found is None else tuple(found.get("groups") or ())


def dates_line(detail: dict) -> str:
    """'Created ...; description, notice or permissions last changed ...; annotations last
    changed ...' (the last data change only where the backend keeps it)."""
    text = (
        f"Created {when(detail.get('created'))}; description, notice or permissions last "
        f"changed {when(detail.get('last_modified'))}"
    )
    if detail.get("last_data_change"):
        text += f"; annotations last changed {when(detail['last_data_change'])}"
    return text + "."


def data_change_column(details: list[dict]) -> dict:
    """The listing's 'last data change' column, where the backend keeps it (else none)."""
    import pandas as pd

    if not any("last_data_change" in d for d in details):
        return {}
    return {
        "last data change": pd.to_datetime(
            [d.get("last_data_change") for d in details], errors="coerce"
        )
    }


def permission_line(kind: str, level: str) -> str:
    """e.g. 'PUBLIC: everyone who can use this aligned volume can read'."""
    return f"{level}: {api.PERMISSION_HELP[kind].get(level, '')}"


def plain_block(label: str, text: str | None, empty: str = "(none)") -> None:
    """A small label and text exactly as typed (no Markdown, no HTML)."""
    st.caption(label)
    st.text(text if text else empty)


def facts(items: dict[str, str]) -> None:
    """A bordered row of small labelled values (names, counts), as plain text."""
    with st.container(border=True):
        for col, (label, value) in zip(st.columns(len(items)), items.items(), strict=True):
            col.caption(label)
            col.text(value)


def notice_box(notice: str | None) -> None:
    """The owner's notice, prominent, as plain text."""
    if not notice:
        return
    with st.container(border=True, key="notice_box"):
        st.warning("Notice from the table's owner", icon=":material/campaign:")
        st.text(notice)


def empty_tables(vol: str) -> None:
    """What to say when a volume has no tables."""
    st.info(f"No tables in aligned volume '{md(vol)}' yet: create one.", icon=":material/inbox:")
    st.page_link("pages/create_table.py", label="Create a table", icon=":material/add_box:")


def table_picker(details: list[dict], key: str, label: str = "Table") -> dict | None:
    """A selectbox of the volume's tables, starting at the table last opened anywhere."""
    names = [d["table_name"] for d in details]
    if not names:
        return None
    wanted = handoff.picked_elsewhere()  # e.g. a table just created for this page
    if wanted in names:
        st.session_state[key] = wanted
    # after a reload the session is new: the address still names the table
    current = api.current_table() or st.query_params.get("table")
    if st.session_state.get(key) not in names:
        st.session_state[key] = current if current in names else names[0]
    picked = st.selectbox(label, names, key=key)
    api.set_current_table(picked)
    if st.query_params.get("table") != picked:
        st.query_params["table"] = picked
    return next(d for d in details if d["table_name"] == picked)


def count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def when(value: object) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM' (ISO or CAVE's str(datetime)), or 'unknown'."""
    text = "" if value is None else str(value)
    return "unknown" if text in ("", "None") else text[:16].replace("T", " ")


def rows_of(detail: dict) -> int | None:
    """Live rows of a table; a CAVE server counts only all rows, so that count stands in."""
    live = detail.get("live_count")
    return detail.get("total_count") if live is None else live


def allowed(detail: dict, right: str) -> bool:
    """Whether to offer an action: True or unknown (None, a CAVE server: it will say)."""
    return detail.get(right) is not False


def page_of_tables(title: str) -> list[dict]:
    """Start a page about the volume's tables: its title, any flash message, and the tables
    (or the empty state, which ends the page)."""
    st.title(title)
    api.show_flash()
    details: list[dict] = []
    with api.errors_shown():
        details = api.table_details()
    if not details:
        empty_tables(api.volume())
        st.stop()
    return details


def readable_tables() -> list[str]:
    """Names of the tables of the session's volume this person may see (with sign-in on,
    a table one may not read is not named at all)."""
    if api.signed_in():
        return [d["table_name"] for d in api.table_details()]
    return api.client().get_tables()
