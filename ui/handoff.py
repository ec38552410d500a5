"""What one page hands the next: a table to create (and the page to come back to), and the
table the next picker should show. Kept in ``st.session_state``; nothing here reads
anno_core.
"""

from __future__ import annotations

import streamlit as st

from ui import client as api

_CREATE_RETURN = "anno_create_return"
_PICK = "anno_pick"


def start_create(schema: str | None = None, return_to: str | None = None) -> None:
    """Ask the Create table page for a table (of ``schema``), then to go back to the page
    ``return_to`` (say pages/upload.py) with the new table chosen."""
    if schema is not None:
        st.session_state["ct_schema"] = schema
    st.session_state[_CREATE_RETURN] = return_to


def create_return() -> str | None:
    """The page a new table should take the person back to (set by `start_create`)."""
    return st.session_state.get(_CREATE_RETURN)


def created(name: str) -> str:
    """A table was created: make it the one every table picker shows next; the page to go
    to next."""
    api.set_current_table(name)
    st.session_state[_PICK] = name
    return st.session_state.pop(_CREATE_RETURN, None) or "pages/tables.py"


def picked_elsewhere() -> str | None:
    """A table chosen by another page for the next picker (once), else None."""
    return st.session_state.pop(_PICK, None)
