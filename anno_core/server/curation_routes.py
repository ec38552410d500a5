"""Our routes for curating a table: past uploads and their undo, deletes by filter, restores,
summaries, and an aligned volume's extent and bounds. Only our remote backend calls them
(`remote.curation.OurCuration`); a real CAVE has none of them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from anno_core.errors import InvalidArgument
from anno_core.server.http import (
    Api,
    Routes,
    body_object,
    ids_from,
    reply,
    scoped_key,
    table,
    volume,
)
from anno_core.wire import endpoints as ep

MAX_BATCHES = 10_000  # batch keys one upload record may name (100 M rows)


def _whole(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"'{name}' must be a whole number, not {value!r}.") from exc
    if number < 1:
        raise InvalidArgument(f"'{name}' must be at least 1, not {number}.")
    return number


async def upload_record(api: Api, request: Request) -> Response:
    """What an upload sent in batches (one idempotency key each) stored, or null."""
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    body = body_object(await api.json(request), "with op and batches")
    op = body.get("op", "insert")
    if op not in ("insert", "update"):
        raise InvalidArgument(f"'op' must be insert or update, not {op!r}.")
    batches = body.get("batches")
    if not isinstance(batches, list) or not all(isinstance(k, str) for k in batches):
        raise InvalidArgument("'batches' must list the upload's batch keys as text.")
    if len(batches) > MAX_BATCHES:
        raise InvalidArgument(f"Name at most {MAX_BATCHES:,} batches at a time.")
    keys = [scoped_key(k, b.user.id, vol, tbl, op) for k in batches]
    return reply(await api.run(b.batches_record, vol, tbl, keys))


async def uploads(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    limit = _whole(request.query_params.get("limit"), "limit", 20)
    return reply(await api.run(b.list_uploads, volume(request), table(request), limit))


async def undo_upload(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    [upload] = ids_from(request.path_params["upload"], "upload")
    return reply(await api.run(b.undo_upload, volume(request), table(request), upload))


async def delete_matching(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), "with filters, ids and expected")
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise InvalidArgument("'filters' must map column names to values.")
    ids = body.get("ids")
    expected = body.get("expected")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise InvalidArgument(f"'expected' must be a whole number of rows, not {expected!r}.")
    done = await api.run(
        b.delete_matching,
        volume(request),
        table(request),
        filters=filters or None,
        ids=ids_from(ids, "ids") if ids is not None else None,
        expected=expected,
    )
    return reply(done)


async def restore(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"ids": [12, 13]}')
    ids = ids_from(body.get("ids"), "ids")
    got = await api.run(b.restore_annotation, volume(request), table(request), ids)
    return reply({str(k): v for k, v in got.items()})


async def summary(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    top = _whole(request.query_params.get("top"), "top", 10)
    bins = _whole(request.query_params.get("bins"), "bins", 20)
    return reply(await api.run(b.summarize, volume(request), table(request), top=top, bins=bins))


async def extent(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.volume_extent, volume(request)))


async def bounds(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"lower": [0, 0, 0], "upper": [...]}')
    return reply(
        await api.run(b.set_volume_bounds, volume(request), body.get("lower"), body.get("upper"))
    )


ROUTES: Routes = (
    (ep.UPLOAD_RECORD, upload_record, ["POST"]),
    (ep.UPLOADS, uploads, ["GET"]),
    (ep.UNDO_UPLOAD, undo_upload, ["POST"]),
    (ep.DELETE_MATCHING, delete_matching, ["POST"]),
    (ep.RESTORE, restore, ["POST"]),
    (ep.SUMMARY, summary, ["GET"]),
    (ep.EXTENT, extent, ["GET"]),
    (ep.BOUNDS, bounds, ["PUT"]),
)
