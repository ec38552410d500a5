"""The Neuroglancer viewer of the ``neuroglancer`` package, served as it is, and sources of
rows held in memory (a file's points before upload).

The package ships the viewer's Python-integration build: its page must live under
``/v/<token>/`` and it opens an event stream at ``/events/<token>`` (kept open here, so it
does not report a lost Python server). Files are served with the MIME types the package
itself uses (``.wasm`` must be ``application/wasm``). Nothing it loads comes from anywhere
else, so the viewer works offline.

`publish` keeps a `FrameSource` for two hours (the last few only) under a random token (a
capability: the token is the only way to it) and serves it at
``/neuroglancer/memory/<token>/...``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from anno_core.errors import NotFound
from anno_core.neuroglancer.encoding import parse_cell
from anno_core.neuroglancer.frame_source import FrameSource
from anno_core.server.http import Api, Routes
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import dumps

MIME = {
    ".css": "text/css",
    ".js": "application/javascript",
    ".html": "text/html; charset=utf-8",
    ".map": "application/json",
    ".wasm": "application/wasm",
}
_NAME = re.compile(r"^[a-z0-9][a-zA-Z0-9_\-.]*\.(?:js|map|css|wasm|html)$")
EVENTS_SECONDS = 600
"""An event stream ends after this long (the viewer reconnects at once), so a server can
always stop."""
MEMORY_SECONDS = 2 * 3600
MEMORY_SOURCES = 4
"""Previews kept at once (a million-row file's preview holds ~100 MB): the oldest goes."""

_memory: OrderedDict[str, tuple[float, FrameSource]] = OrderedDict()
_memory_lock = threading.Lock()


@functools.cache
def static_dir() -> Path:
    """The folder of the package's compiled viewer."""
    return Path(str(importlib.resources.files("neuroglancer") / "static" / "client"))


@functools.lru_cache(maxsize=64)
def _file(name: str) -> bytes:
    return (static_dir() / name).read_bytes()


async def viewer_file(api: Api, request: Request) -> Response:
    name = request.path_params.get("name") or "index.html"
    if request.path_params["token"] != ep.VIEWER_TOKEN or not _NAME.match(name):
        raise NotFound(f"There is no viewer file {name!r}; open /v/{ep.VIEWER_TOKEN}/.")
    if not (static_dir() / name).is_file():
        raise NotFound(f"There is no viewer file {name!r}.")
    body = await api.run(_file, name)
    suffix = Path(name).suffix
    # Every file but the page has its content's hash in its name, so it may be kept.
    cache = "no-cache" if suffix == ".html" else "public, max-age=31536000, immutable"
    return Response(body, media_type=MIME[suffix], headers={"Cache-Control": cache})


async def events(api: Api, request: Request) -> Response:
    """The Python-integration build's state stream, held open with comments only."""

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        end = time.monotonic() + EVENTS_SECONDS
        while time.monotonic() < end:
            await asyncio.sleep(15)
            yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


# -- rows held in memory -----------------------------------------------------------------
def publish(source: FrameSource) -> str:
    """Serve ``source`` for a few hours; its token (the path segment that opens it)."""
    token = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _memory_lock:
        _memory[token] = (now, source)
        for key in [k for k, (t, _) in _memory.items() if now - t > MEMORY_SECONDS]:
            _memory.pop(key)
        while len(_memory) > MEMORY_SOURCES:
            _memory.popitem(last=False)
    return token


def _source(request: Request) -> tuple[FrameSource, str]:
    with _memory_lock:
        found = _memory.get(request.path_params["token"])
    if found is None:
        raise NotFound("This preview is no longer kept; open it in Neuroglancer again.")
    source, geometry = found[1], request.path_params["geometry"]
    if geometry not in source.layout.geometries:
        raise NotFound(f"This preview has no {geometry!r} source.")
    return source, geometry


async def memory_info(api: Api, request: Request) -> Response:
    source, geometry = _source(request)
    return Response(dumps(source.info(geometry, prefix="0/")), media_type="application/json")


async def memory_cell(api: Api, request: Request) -> Response:
    source, geometry = _source(request)
    level, cell = request.path_params["level"], parse_cell(request.path_params["cell"])
    if not level.isdigit() or cell is None:
        raise NotFound("There is no such cell; cells are named like spatial0/0_1_0.")
    data = await api.run(source.cell, geometry, int(level), cell)
    return Response(data, media_type="application/octet-stream")


async def memory_by_id(api: Api, request: Request) -> Response:
    source, geometry = _source(request)
    text = request.path_params["annotation_id"]
    found = source.by_id(geometry, int(text)) if text.isdigit() else None
    if found is None:
        raise NotFound(f"This preview has no annotation {text!r}.")
    return Response(found, media_type="application/octet-stream")


ROUTES: Routes = (
    (ep.VIEWER, viewer_file, ["GET"]),
    (ep.VIEWER_FILE, viewer_file, ["GET"]),
    (ep.VIEWER_EVENTS, events, ["GET"]),
)
"""The viewer: no token needed (it is the package's own code)."""

SOURCE_ROUTES: Routes = (
    (ep.NG_MEMORY + ep.SOURCE_INFO, memory_info, ["GET"]),
    (ep.NG_MEMORY + ep.SOURCE_CELL, memory_cell, ["GET"]),
    (ep.NG_MEMORY + ep.SOURCE_BY_ID, memory_by_id, ["GET"]),
)
"""Sources in memory (opened by their token; registered with `open_to_all`)."""
