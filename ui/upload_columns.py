"""The Upload page's word on columns the table cannot keep: which ones, and which schemas would
keep more of them (anno_core's `better_schemas`, by field names and types), each with a
button to create such a table and come back here with it chosen.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import client as api
from ui import handoff
from ui import upload_state as us
from ui import widgets as w


def not_kept(plan: Any, digest: str) -> None:
    """Name the columns that will not be stored, and schemas that would keep more."""
    used = set(plan.mapping.used_columns())
    left = [c for c in plan.columns if c not in used]
    if not left:
        return
    names = ", ".join(f"'{w.md(c)}'" for c in left)
    n = len(left)
    st.info(
        f"{n:,} of your {len(plan.columns):,} columns {'is' if n == 1 else 'are'} not stored: "
        f"{names}. Table '{w.md(plan.table_name)}' (schema '{w.md(plan.spec.name)}') has no "
        "field for "
        + ("it" if n == 1 else "them")
        + ": map "
        + ("it" if n == 1 else "one")
        + " above if it belongs to a field, or keep "
        + ("it" if n == 1 else "them")
        + " in a table of another schema.",
        icon=":material/visibility_off:",
    )
    fits = us.memo(
        "fits",
        (digest, plan.spec.name, tuple(sorted(used))),
        lambda: api.better_schemas(plan.data, plan.spec.name, sorted(used)),
    )
    if not fits:
        return
    with st.expander(f"Schemas that would keep more of your columns ({len(fits)})", expanded=False):
        for i, fit in enumerate(fits):
            text, button = st.columns([4, 1.4], vertical_alignment="center")
            text.markdown(f"**{w.md(fit.schema)}**: keeps {len(fit.kept)} columns")
            text.caption(w.md(fit.describe()))
            if button.button(
                "Create such a table",
                key=f"up_fit_{i}",
                icon=":material/add_box:",
                help=f"Opens Create table with schema '{fit.schema}'; you come back here "
                "with the new table chosen.",
            ):
                handoff.start_create(fit.schema, "pages/upload.py")
                st.switch_page("pages/create_table.py")
        st.caption(
            "Suggestions by the names and types of your columns: check a schema's fields "
            "before creating a table of it."
        )
