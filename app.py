"""Dashboard entry point (the multipage app lands with the dashboard issue)."""

import streamlit as st

import anno_core

st.set_page_config(page_title="Annotation tables", layout="wide")
client = anno_core.connect()
st.title("Annotation tables")
st.caption(client.connection_label)
tables = client.get_tables()
if tables:
    st.write(tables)
else:
    st.info("No tables yet.")
