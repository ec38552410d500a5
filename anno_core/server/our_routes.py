"""Our routes beyond CAVE's: what the dashboard and our remote backend need.

Columnar batch uploads with an idempotency key (and a way to ask whether a batch was
stored), one page of rows, the point columns of a table, an annotation's history, table
details with counts, the acting user, aligned volumes and users. A real CAVE server has
none of these; the remote backend only calls them on our server.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from anno_core.arguments import check_page, query_filters
from anno_core.common import MAX_SAMPLE
from anno_core.errors import AlreadySuperseded, InvalidArgument
from anno_core.moments import parse_moment
from anno_core.server.http import (
    Api,
    Routes,
    body_object,
    check_size,
    flag,
    ids_from,
    reply,
    scoped_key,
    table,
    upload_key,
    volume,
)
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import MAGIC, decode_frame, encode_frame, unpack


async def _frame_request(api: Api, request: Request) -> tuple[dict[str, Any], Any, Any]:
    """(header, frame, lines) of a frame upload, packed (`server_wire.pack`) or JSON."""
    raw = await api.body(request)
    if raw[:4] == MAGIC:
        header, frame = unpack(raw)
    else:
        header = body_object(_parse(raw), 'like {"frame": {...}, "lines": [...]}')
        frame = decode_frame(header.get("frame"))
    check_size(len(frame))
    lines = header.get("lines")
    if isinstance(lines, dict):  # {"first": k}: lines k, k+1, ... (sent for plain numbering)
        first = lines.get("first")
        if isinstance(first, bool) or not isinstance(first, int):
            raise InvalidArgument("'lines' must be a list of line numbers or {\"first\": n}.")
        lines = np.arange(first, first + len(frame))
    elif lines is not None and (not isinstance(lines, list) or len(lines) != len(frame)):
        raise InvalidArgument(f"'lines' must list one line number per row ({len(frame)}).")
    return header, frame, lines


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(
            "The request body is neither a packed frame nor valid JSON; "
            "send it as anno_core's remote backend does."
        ) from exc


async def insert_frame(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    body, frame, lines = await _frame_request(api, request)
    label = body.get("line_label", "line")
    if not isinstance(label, str) or not label:
        raise InvalidArgument("'line_label' must be a word like 'line' or 'row'.")
    allow = body.get("allow_position_strings", True)
    if not isinstance(allow, bool):
        raise InvalidArgument("'allow_position_strings' must be true or false.")
    key = upload_key(request, b.user.id, vol, tbl, "insert")
    ids = await api.keyed(
        request,
        b.insert_frame,
        vol,
        tbl,
        frame,
        lines=lines,
        line_label=label,
        allow_position_strings=allow,
        upload_key=key,
    )
    return reply(ids)


async def update_frame(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    _, frame, lines = await _frame_request(api, request)
    key = upload_key(request, b.user.id, vol, tbl, "update")
    try:
        mapping = await api.keyed(
            request, b.update_frame, vol, tbl, frame, lines=lines, upload_key=key
        )
    except AlreadySuperseded as exc:
        return await api.repeated_update(b, key, exc)
    return reply({str(k): v for k, v in mapping.items()})


async def upload_status(api: Api, request: Request) -> Response:
    """Whether the batch with this idempotency key was stored, and what it returned."""
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    op = request.query_params.get("op", "insert")
    if op not in ("insert", "update"):
        raise InvalidArgument(f"'op' must be insert or update, not {op!r}.")
    await api.run(b.get_table_metadata, vol, tbl)  # 404 for an unknown table
    key = scoped_key(request.path_params["key"], b.user.id, vol, tbl, op)
    stored = await api.run(b.upload_key_result, key)
    return reply({"stored": stored is not None, "result": stored})


def _view(body: dict[str, Any]) -> dict[str, Any]:
    """The rows a query (or its count) covers: include_invalid, filters, ids, timestamp."""
    filters = query_filters(body.get("filters") or {})
    ids = body.get("ids")
    include_invalid = body.get("include_invalid", False)
    if not isinstance(include_invalid, bool):
        raise InvalidArgument("'include_invalid' must be true or false.")
    return {
        "include_invalid": include_invalid,
        "filters": filters,
        "ids": ids_from(ids, "ids") if ids is not None else None,
        "timestamp": parse_moment(body.get("timestamp")),
    }


async def query(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), "with limit, offset, filters")
    limit, offset = check_page(body.get("limit", 1000), body.get("offset", 0))
    after_id = body.get("after_id")
    if after_id is not None and (isinstance(after_id, bool) or not isinstance(after_id, int)):
        raise InvalidArgument(f"'after_id' must be an annotation id, not {after_id!r:.40}.")
    frame = await api.run(
        b.query,
        volume(request),
        table(request),
        limit=limit,
        offset=offset,
        after_id=after_id,
        **_view(body),
    )
    return reply({**encode_frame(frame), "notice": frame.attrs.get("notice")})


async def count_rows(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), "with filters")
    return reply(await api.run(b.count_rows, volume(request), table(request), **_view(body)))


async def estimate_rows(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), "with filters")
    view = _view(body)
    if view.pop("timestamp") is not None:
        raise InvalidArgument(
            "An estimated count is of the live rows; count the rows at a moment exactly "
            "(the count route takes a timestamp)."
        )
    return reply(await api.run(b.estimate_rows, volume(request), table(request), **view))


MAX_POINTS_PER_REQUEST = 1_000_000
"""Most points one request may ask for (the default is MAX_SAMPLE)."""


def _points_limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return MAX_SAMPLE
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_POINTS_PER_REQUEST:
        raise InvalidArgument(
            f"'limit' must be a number of points from 1 to {MAX_POINTS_PER_REQUEST:,}, "
            f"not {text!r}."
        )
    return int(text)


async def points(api: Api, request: Request) -> Response:
    """A sample of the table's points (the server reads only those rows)."""
    b = await api.acting(request)
    frame, _spec, meta = await api.run(
        b.point_frame,
        volume(request),
        table(request),
        include_invalid=flag(request, "include_invalid"),
        limit=_points_limit(request),
        columns=[c for c in request.query_params.get("columns", "").split(",") if c] or None,
    )
    return reply({"frame": encode_frame(frame), "metadata": meta})


async def history(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    [aid] = ids_from(request.path_params["annotation_id"], "annotation_id")
    return reply(await api.run(b.history, volume(request), table(request), aid))


async def taken(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply({"taken": await api.run(b.table_name_taken, volume(request), table(request))})


async def details(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.table_details, volume(request)))


async def whoami(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(b.whoami())


async def volumes(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.volumes))


async def users(api: Api, request: Request) -> Response:
    """Every user: all they are for an admin; for anyone else only ids and names (enough
    to name owners and hand a table over), not who is admin or in which group."""
    b = await api.acting(request)
    everyone = await api.run(b.users.list)
    if b.user.is_admin:
        return reply([u.to_dict() for u in everyone])
    return reply([{"id": u.id, "name": u.name} for u in everyone])


async def activity(api: Api, request: Request) -> Response:
    """One page of the audit log, of tables the caller may read (the engine filters)."""
    b = await api.acting(request)
    q = request.query_params
    numbers = {}
    for key in ("limit", "before"):
        raw = q.get(key)
        if raw is not None:
            if not raw.strip().isdigit():
                raise InvalidArgument(f"'{key}' must be a whole number, not {raw!r}.")
            numbers[key] = int(raw)
    page = await api.run(
        b.activity,
        volume(request),
        **{k: q.get(k) or None for k in ("table", "user", "kind", "since", "until")},
        **numbers,
    )
    return reply(page)


ROUTES: Routes = (
    (ep.FRAME, insert_frame, ["POST"]),
    (ep.FRAME, update_frame, ["PUT"]),
    (ep.UPLOAD, upload_status, ["GET"]),
    (ep.QUERY, query, ["POST"]),
    (ep.QUERY_COUNT, count_rows, ["POST"]),
    (ep.QUERY_ESTIMATE, estimate_rows, ["POST"]),
    (ep.POINTS, points, ["GET"]),
    (ep.HISTORY, history, ["GET"]),
    (ep.TAKEN, taken, ["GET"]),
    (ep.DETAILS, details, ["GET"]),
    (ep.WHOAMI, whoami, ["GET"]),
    (ep.VOLUMES, volumes, ["GET"]),
    (ep.USERS, users, ["GET"]),
    (ep.ACTIVITY, activity, ["GET"]),
)
