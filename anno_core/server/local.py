"""Our server inside the current process, on a free port of 127.0.0.1, started on first need.

What makes *Open in Neuroglancer* and *Download* work with nothing else running: the
dashboard (or a notebook) on the embedded engine serves its tables' sources, the package's
viewer and export downloads (a Streamlit process cannot stream a file of millions of rows
from its own memory) from a background thread, over the same database. One host per
database per process (the viewer-only host, for a client connected to a server, serves the
viewer and in-memory previews). It listens on 127.0.0.1 only, and its table sources need a
grant signed for a user, exactly as on a real server.
"""

from __future__ import annotations

import socket
import threading
import time

from anno_core.errors import AnnoError
from anno_core.settings import Settings

_hosts: dict[str, tuple[str, threading.Thread]] = {}
_lock = threading.Lock()


def local_host(settings: Settings | None) -> str:
    """The address (``http://127.0.0.1:PORT``) of this process's host for the database the
    settings name (None: the viewer-only host), started on first call."""
    key = settings.resolved_database_url() if settings is not None else ""
    with _lock:
        running = _hosts.get(key)
        if running is None or not running[1].is_alive():
            _hosts[key] = _start(settings)
        return _hosts[key][0]


def _start(settings: Settings | None) -> tuple[str, threading.Thread]:
    import uvicorn

    from anno_core.server.app import create_app, viewer_app

    app = create_app(settings) if settings is not None else viewer_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"anno-host-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AnnoError(
                "The local server (Neuroglancer and downloads) did not start; see the log for "
                "why, and try again."
            )
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", thread
