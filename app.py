"""Dashboard entry point: the sign-in gate, the page router and the sidebar, nothing else.

Later pages add one line to PAGES. Every page reaches anno_core through ui.client.
"""

from pathlib import Path

import streamlit as st

from ui import sidebar, signin

ICON = Path(__file__).parent / "ui" / "icon.png"
PAGES = [
    st.Page("pages/tables.py", title="Tables", icon=":material/table_view:", default=True),
    st.Page("pages/create_table.py", title="Create table", icon=":material/add_box:"),
    st.Page("pages/metadata.py", title="Metadata", icon=":material/edit_note:"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:"),
    st.Page("pages/edit.py", title="Edit annotations", icon=":material/edit:"),
    st.Page("pages/activity.py", title="Activity", icon=":material/history:"),
    st.Page("pages/people.py", title="People", icon=":material/group:"),
]

# A local icon: Material icons as favicons would be fetched from fonts.gstatic.com.
st.set_page_config(page_title="Annotation tables", page_icon=str(ICON), layout="wide")
# Nothing of the engine is read before the gate admits this session (sign-in, loopback).
if signin.admit():
    page = st.navigation(PAGES)
    sidebar.render()
    page.run()
