"""Streamlit helpers of the dashboard; `ui.client` is the only door to anno_core."""
