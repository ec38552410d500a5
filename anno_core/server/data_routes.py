"""Our routes for getting data out: versions (named moments) and streamed exports.

An export is streamed as it is written: the engine writes chunk after chunk into a bounded
queue on a thread of its own, and the response sends what the queue holds, so neither side
ever holds the whole file. A caller with a token POSTs the options (our remote backend); a
browser, which sends no token, GETs a signed, expiring link that a caller with a token asked
for (``export/link``). The dashboard asks how far a link's download has got
(``exports/{link_id}``).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from anno_core.engine.export import PreparedExport
from anno_core.errors import InvalidArgument
from anno_core.export.options import MEDIA_TYPES, ExportOptions
from anno_core.export.progress import DOWNLOADS
from anno_core.moments import parse_moment
from anno_core.server.http import Api, Routes, body_object, logger, reply, table, volume
from anno_core.wire import endpoints as ep

BLOCK = 1 << 20  # bytes gathered before a block goes to the response
QUEUED = 8  # blocks waiting at most: memory of a download stays ~8 MB however large


# -- versions -----------------------------------------------------------------------------
async def list_versions(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.list_versions, volume(request)))


async def create_version(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"name": "v1", "description": "..."}')
    unknown = sorted(set(body) - {"name", "description", "timestamp"})
    if unknown:
        raise InvalidArgument(
            f"Unknown field {', '.join(map(repr, unknown))}; a version takes name, "
            "description and timestamp."
        )
    made = await api.run(
        b.create_version,
        volume(request),
        body.get("name"),
        body.get("description"),
        parse_moment(body.get("timestamp")),
    )
    return reply(made, status=201)


async def get_version(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.get_version, volume(request), request.path_params["version"]))


async def delete_version(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol, name = volume(request), request.path_params["version"]
    return reply(await api.run(b.delete_version, vol, name))


# -- exports ------------------------------------------------------------------------------
async def export(api: Api, request: Request) -> Response:
    """POST options with a token, or GET a signed link: the file, streamed."""
    vol, tbl = volume(request), table(request)
    link_id = None
    if request.method == "GET":
        params = dict(request.query_params)
        b, options, link_id = await api.run(api.backend.open_link, vol, tbl, params)
    else:
        b = await api.acting(request)
        options = ExportOptions.from_wire(await api.json(request))
    prepared: PreparedExport = await api.run(b.prepare_export, vol, tbl, options)
    summary = prepared.summary
    if link_id is not None:
        DOWNLOADS.start(link_id, b.user.id, tbl, summary["rows"])
    headers = {
        "Content-Disposition": f'attachment; filename="{summary["filename"]}"',
        ep.EXPORT_HEADER: _header_json(summary),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        _stream(prepared, link_id), media_type=MEDIA_TYPES[options.format], headers=headers
    )


async def export_link(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    options = ExportOptions.from_wire(await api.json(request))
    return reply(await api.run(b.export_link, volume(request), table(request), options))


async def export_progress(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    got = await api.run(b.export_progress, volume(request), request.path_params["link_id"])
    return reply(got)


def _header_json(summary: dict[str, Any]) -> str:
    """The summary as a header value (JSON, non-ASCII escaped: headers are Latin-1)."""
    return json.dumps(summary, ensure_ascii=True)


class _QueueSink:
    """A binary sink the engine writes into: blocks of ~1 MB go into a bounded queue the
    response reads; a download the browser dropped stops the writer at its next block."""

    def __init__(self) -> None:
        self.blocks: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUED)
        self.stopped = threading.Event()
        self._buf = bytearray()
        self.closed = False

    def write(self, data: bytes) -> int:
        self._buf += data
        if len(self._buf) >= BLOCK:
            self._put(bytes(self._buf))
            self._buf.clear()
        return len(data)

    def flush(self) -> None:
        if self._buf:
            self._put(bytes(self._buf))
            self._buf.clear()

    def _put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.stopped.is_set():
                raise ConnectionAbortedError("the download was dropped")
            try:
                self.blocks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self, error: BaseException | None = None) -> None:
        try:
            if error is None:
                self.flush()
            self._put(error)
        except ConnectionAbortedError:
            pass


async def _stream(prepared: PreparedExport, link_id: str | None) -> AsyncIterator[bytes]:
    sink = _QueueSink()
    rows = [0]

    def progress(done: int, total: int) -> None:
        rows[0] = done
        if link_id is not None:
            DOWNLOADS.advance(link_id, done)

    def produce() -> None:
        try:
            prepared.write(sink, progress)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - handed to the response, which ends
            sink.finish(exc)
        else:
            sink.finish()

    worker = threading.Thread(target=produce, name="anno-export", daemon=True)
    worker.start()
    failed: str | None = "The download was interrupted before its end."
    try:
        while True:
            try:  # a bounded wait: a dropped download never leaves a thread waiting forever
                item = await run_in_threadpool(sink.blocks.get, True, 1.0)
            except queue.Empty:
                continue
            if item is None:
                failed = None
                return
            if isinstance(item, BaseException):
                if not isinstance(item, ConnectionAbortedError):
                    logger.error("Export of %r failed", prepared.table, exc_info=item)
                failed = f"The export failed after {rows[0]:,} rows; try again."
                # Ending the body without its last chunk tells the client it is incomplete.
                raise RuntimeError(failed) from item
            yield item
    finally:
        sink.stopped.set()
        if link_id is not None:
            DOWNLOADS.finish(link_id, rows[0], failed)


ROUTES: Routes = (
    (ep.VERSIONS, list_versions, ["GET"]),
    (ep.VERSIONS, create_version, ["POST"]),
    (ep.VERSION_NAMED, get_version, ["GET"]),
    (ep.VERSION_NAMED, delete_version, ["DELETE"]),
    (ep.EXPORT, export, ["GET", "POST"]),
    (ep.EXPORT_LINK, export_link, ["POST"]),
    (ep.EXPORT_PROGRESS, export_progress, ["GET"]),
)
