"""Our server in a background thread of this process, on 127.0.0.1 (a free port).

The embedded dashboard hands browsers signed links to download exports; a Streamlit
process cannot stream a file of millions of rows from its own memory, so this server,
running over the same database in the same process, streams them instead. One per
database, started on first need, stopped with the process.
"""

from __future__ import annotations

import socket
import threading
import time

from anno_core.errors import AnnoError
from anno_core.settings import Settings

_servers: dict[str, tuple[str, threading.Thread]] = {}
_lock = threading.Lock()


def serve_in_background(settings: Settings, timeout: float = 30.0) -> str:
    """The base address of this process's server over the settings' database."""
    import uvicorn

    from anno_core.server.app import create_app

    url = settings.resolved_database_url()
    with _lock:
        running = _servers.get(url)
        if running is not None and running[1].is_alive():
            return running[0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(settings), log_level="warning", access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="anno-local-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AnnoError("The local download server did not start; see the dashboard's log.")
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        _servers[url] = (base, thread)
        return base
