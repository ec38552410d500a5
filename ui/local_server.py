"""The address browsers download exports from, in embedded mode: our server running in this
Streamlit process (a background thread on 127.0.0.1, over the same database), started on
first need by `anno_core.local_server_url`.

A page hands the browser a signed link on that server; the server streams the file as it is
written, so a table of millions of rows never sits in the dashboard's memory, and the
browser shows its own download progress besides the page's bar. The link works from the
machine running the dashboard (which is where the embedded engine is used).
"""

from __future__ import annotations

import anno_core
from ui import client as api


def base_url() -> str:
    """The local server's base address for the session's embedded database."""
    conn = api.connection()
    return anno_core.local_server_url(backend="embedded", data_dir=conn.data_dir)


def absolute(url: str) -> str:
    """A link as the browser needs it: a server's own links are absolute already; the
    embedded engine's are paths on the local server."""
    return base_url() + url if url.startswith("/") else url
