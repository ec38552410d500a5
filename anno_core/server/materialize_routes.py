"""The MaterializationEngine routes caveclient 8.2.1's ``client.materialize`` calls.

Datastack X is aligned volume X (as the info route says); its materialization versions are
our versions, numbered 1, 2, ... (a version never expires). A query reads the table as it
was at the version's moment and answers an Arrow IPC stream with the content type
``data.arrow``, positions as ``{field}_x/_y/_z`` columns, the ``dataframe_resolution``
header stating their units, and the ``Warning`` caveclient logs when the rows reach the
limit (200,000 by default and at most). Root and supervoxel id columns are absent: no
segmentation is bound to our tables.

live_query also asks the segmentation (chunkedgraph) service whether root ids are the
latest: tables without root ids send none, and the answer to none is empty
(`segmentation_routes` below). The rows live_query returns are those of the newest version
at or before its timestamp (caveclient sends no timestamp to the materialization service).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import Response

from anno_core.engine.frozen import FrozenPart
from anno_core.errors import InvalidArgument, NotSupported
from anno_core.moments import parse_moment
from anno_core.names import check_volume_name
from anno_core.server.http import Api, Routes, body_object, reply
from anno_core.wire import endpoints as ep

QUERY_LIMIT = 200_000
"""Most rows one query answers, and the default (upstream's QUERY_LIMIT_SIZE)."""
SERVICE_VERSION = "5.26.4"
"""The MaterializationEngine release whose API these routes speak (caveclient checks it)."""
FILTERS = {
    "filter_in_dict": "in",
    "filter_notin_dict": "notin",
    "filter_out_dict": "notin",
    "filter_equal_dict": "equal",
    "filter_greater_dict": "greater",
    "filter_less_dict": "less",
    "filter_greater_equal_dict": "greater_equal",
    "filter_less_equal_dict": "less_equal",
    "filter_spatial_dict": "spatial",
    "filter_regex_dict": "regex",
}
BODY_KEYS = {
    *FILTERS,
    "select_columns",
    "select_column_map",
    "offset",
    "limit",
    "desired_resolution",
    "tables",
    "suffix_map",
    "suffixes",
}


def _volume(request: Request) -> str:
    return check_volume_name(request.path_params["datastack"])


def _time(value: Any) -> str | None:
    """A moment as caveclient parses it: ``%Y-%m-%dT%H:%M:%S.%f``, UTC, no offset."""
    moment = parse_moment(value)
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _version_obj(version: dict[str, Any], datastack: str) -> dict[str, Any]:
    return {
        "id": version["number"],
        "datastack": datastack,
        "version": version["number"],
        "time_stamp": _time(version["timestamp"]),
        "expires_on": None,  # versions never expire
        "valid": True,
        "status": "AVAILABLE",
        "is_merged": True,
        "parent_version": None,
        "name": version["name"],
        "description": version["description"],
        "created_by": version["created_by_name"],
    }


def _table_obj(meta: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": meta["id"],
        "aligned_volume": meta["aligned_volume"],
        "table_name": meta["table_name"],
        "schema": meta["schema_type"],
        "schema_type": meta["schema_type"],
        "valid": True,
        "created": _time(meta["created"]),
        "user_id": meta["user_id"],
        "description": meta["description"],
        "notice_text": meta["notice_text"],
        "reference_table": meta["reference_table"],
        "flat_segmentation_source": meta["flat_segmentation_source"],
        "voxel_resolution_x": float(meta["voxel_resolution_x"]),
        "voxel_resolution_y": float(meta["voxel_resolution_y"]),
        "voxel_resolution_z": float(meta["voxel_resolution_z"]),
        "write_permission": meta["write_permission"],
        "read_permission": meta["read_permission"],
        "last_modified": _time(meta["last_modified"]),
        "segmentation_source": None,  # no segmentation is bound: no root ids
        "pcg_table_name": None,
        "last_updated": _time(version["timestamp"]),
        "annotation_table": meta["table_name"],
    }


async def _version(api: Api, request: Request) -> tuple[Any, str, dict[str, Any]]:
    """(the acting engine, the volume, the version named in the path)."""
    b = await api.acting(request)
    vol = _volume(request)
    number = request.path_params["version"]
    if not number.isdigit():
        raise InvalidArgument(f"A materialization version is a number, not {number!r}.")
    return b, vol, await api.run(b.get_version, vol, int(number))


# -- versions and tables ------------------------------------------------------------------
async def api_versions(api: Api, request: Request) -> Response:
    return reply([2, 3])


async def service_version(api: Api, request: Request) -> Response:
    return reply(SERVICE_VERSION)


async def versions(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    found = await api.run(b.list_versions, _volume(request))
    return reply([v["number"] for v in found])


async def versions_metadata(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol = _volume(request)
    return reply([_version_obj(v, vol) for v in await api.run(b.list_versions, vol)])


async def version_metadata(api: Api, request: Request) -> Response:
    _, vol, version = await _version(api, request)
    return reply(_version_obj(version, vol))


async def tables(api: Api, request: Request) -> Response:
    b, vol, version = await _version(api, request)
    metas = await api.run(b.tables_at, vol, parse_moment(version["timestamp"]))
    return reply([m["table_name"] for m in metas])


async def tables_metadata(api: Api, request: Request) -> Response:
    b, vol, version = await _version(api, request)
    metas = await api.run(b.tables_at, vol, parse_moment(version["timestamp"]))
    return reply([_table_obj(m, version) for m in metas])


async def table_metadata(api: Api, request: Request) -> Response:
    b, vol, version = await _version(api, request)
    at = parse_moment(version["timestamp"])
    label = f"version {version['number']}"
    meta = await api.run(b.frozen_meta, vol, request.path_params["table_name"], at, label)
    return reply(_table_obj(meta, version))


async def count(api: Api, request: Request) -> Response:
    b, vol, version = await _version(api, request)
    at, label = parse_moment(version["timestamp"]), f"version {version['number']}"
    part = FrozenPart(request.path_params["table_name"])
    got = await api.run(b.frozen_query, vol, at, label, [part], count=True)
    return reply(int(got.column("count")[0].as_py()))


# -- queries -------------------------------------------------------------------------------
async def query(api: Api, request: Request) -> Response:
    """One table, or (no table in the path) a reference table joined to its target."""
    b, vol, version = await _version(api, request)
    body = body_object(await api.json(request), "with the query's filters")
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise InvalidArgument(
            f"Unknown query field {', '.join(map(repr, unknown))}; this server takes "
            f"{', '.join(sorted(BODY_KEYS))}."
        )
    if request.query_params.get("random_sample"):
        raise NotSupported("random_sample is not served here; use limit (and offset) instead.")
    table = request.path_params.get("table_name")
    parts, join = _parts(body, table)
    limit = _whole(body.get("limit", QUERY_LIMIT), "limit", 1)
    limit = min(limit, QUERY_LIMIT)
    offset = _whole(body.get("offset", 0), "offset", 0)
    resolution = _resolution(body.get("desired_resolution"))
    counting = request.query_params.get("count", "").lower() == "true"
    at, label = parse_moment(version["timestamp"]), f"version {version['number']}"
    result: pa.Table = await api.run(
        b.frozen_query, vol, at, label, parts, join, offset, limit, resolution, counting
    )
    metas = [await api.run(b.frozen_meta, vol, p.table, at, label) for p in parts]
    headers = _headers(metas[0], resolution, result.num_rows, limit, counting)
    arrow = request.query_params.get("arrow_format", "false").lower() == "true"
    if not arrow:  # caveclient's return_df=False: JSON records
        return reply(result.to_pylist(), headers=headers)
    return Response(_ipc(result), media_type="data.arrow", headers=headers)


def _parts(body: dict[str, Any], table: str | None) -> tuple[list[FrozenPart], Any]:
    """The tables of a query (with their filters, columns, suffixes) and the join."""
    join = None
    if table is not None:
        names = [table]
    else:
        spec = body.get("tables")
        ok = (
            isinstance(spec, list)
            and len(spec) == 2
            and all(isinstance(p, list) and len(p) == 2 for p in spec)
        )
        if not ok:
            raise InvalidArgument(
                'A join names two tables and their columns: "tables": [["t", "target_id"], '
                '["ref", "id"]].'
            )
        names = [str(spec[0][0]), str(spec[1][0])]
        join = (str(spec[0][1]), str(spec[1][1]))
    suffixes = body.get("suffix_map") or {}
    if isinstance(body.get("suffixes"), list):
        suffixes = dict(zip(names, body["suffixes"], strict=False))
    select_map = body.get("select_column_map") or {}
    parts = []
    for i, name in enumerate(names):
        select = select_map.get(name)
        if i == 0 and isinstance(body.get("select_columns"), list):
            select = body["select_columns"]
        part = FrozenPart(name, select=select, suffix=str(suffixes.get(name, ["", "_ref"][i])))
        for key, kind in FILTERS.items():
            given = body.get(key) or {}
            if not isinstance(given, dict):
                raise InvalidArgument(f"{key} must map table names to {{column: value}}.")
            for col, value in (given.get(name) or {}).items():
                part.filters.append((kind, col, value))
        parts.append(part)
    return parts, join


def _whole(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidArgument(
            f"'{name}' must be a whole number of at least {least}, not {value!r}."
        )
    return value


def _resolution(value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"desired_resolution must be 3 numbers, not {value!r}.") from exc
    if len(out) != 3 or not all(v > 0 for v in out):
        raise InvalidArgument(f"desired_resolution must be 3 positive numbers, not {value!r}.")
    return out  # type: ignore[return-value]


def _headers(
    meta: dict[str, Any], resolution: Any, rows: int, limit: int, counting: bool
) -> dict[str, str]:
    own = (meta["voxel_resolution_x"], meta["voxel_resolution_y"], meta["voxel_resolution_z"])
    units = resolution or own
    headers = {"dataframe_resolution": ", ".join(str(float(v)) for v in units)}
    warnings = []
    if not counting and rows == limit:
        warnings.append(f'201 - "Limited query to {limit} rows')
    if meta.get("notice_text"):
        notice = " ".join(str(meta["notice_text"]).split())
        warnings.append(f"Table Owner Notice on {meta['table_name']}: {notice}")
    if warnings:
        headers["Warning"] = ", ".join(warnings).encode("latin-1", "replace").decode("latin-1")
    return headers


def _ipc(table: pa.Table) -> bytes:
    """An Arrow IPC stream (not a file), ZSTD bodies, as caveclient reads it."""
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# -- the segmentation service, for tables with no root ids ----------------------------------
async def seg_api_versions(api: Api, request: Request) -> Response:
    return reply([1])


async def is_latest_roots(api: Api, request: Request) -> Response:
    await api.acting(request)
    body = body_object(await api.json(request), 'like {"node_ids": []}')
    ids = body.get("node_ids") or []
    if ids:
        raise NotSupported(
            "No segmentation is bound to this server's tables, so it knows no root ids; "
            "its tables have no root id columns."
        )
    return reply({"is_latest": []})


async def roots_binary(api: Api, request: Request) -> Response:
    await api.acting(request)
    if await api.body(request):
        raise NotSupported(
            "No segmentation is bound to this server's tables, so it maps no supervoxels to roots."
        )
    return Response(b"", media_type="application/octet-stream")


async def no_roots(api: Api, request: Request) -> Response:
    await api.acting(request)
    raise NotSupported(
        "No segmentation is bound to this server's tables: they have no root ids to look up, "
        "so filter on their own columns instead."
    )


ROUTES: Routes = (
    (ep.MAT_API_VERSIONS, api_versions, ["GET"]),
    (ep.MAT_VERSION, service_version, ["GET"]),
    (ep.MAT_VERSIONS, versions, ["GET"]),
    (ep.MAT_VERSIONS_META, versions_metadata, ["GET"]),
    (ep.MAT_VERSION_META, version_metadata, ["GET"]),
    (ep.MAT_TABLES, tables, ["GET"]),
    (ep.MAT_TABLES_META, tables_metadata, ["GET"]),
    (ep.MAT_TABLE_META, table_metadata, ["GET"]),
    (ep.MAT_COUNT, count, ["GET"]),
    (ep.MAT_QUERY, query, ["POST"]),
    (ep.MAT_JOIN, query, ["POST"]),
    (ep.SEG_API_VERSIONS, seg_api_versions, ["GET"]),
    (ep.SEG_IS_LATEST, is_latest_roots, ["POST"]),
    (ep.SEG_ROOTS, roots_binary, ["POST"]),
    (ep.SEG_ROOT_TIMESTAMPS, no_roots, ["POST"]),
    (ep.SEG_PAST_IDS, no_roots, ["GET"]),
)
