"""The routes caveclient 8.2.1 calls: AnnotationEngine v2, schema and info services.

Request and response shapes follow the reference (``shared/reference``); where the real
server is broken we do better but accept what caveclient sends (``user_id`` as an int,
``track_target_id_updates: null``).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from anno_core.errors import AlreadySuperseded, InvalidArgument
from anno_core.names import check_volume_name
from anno_core.schemas import json_schema, schema_names
from anno_core.server.guard import check_cookie_write, header_text
from anno_core.server.http import (
    Api,
    Routes,
    body_object,
    check_size,
    flag,
    ids_from,
    reply,
    table,
    text_field,
    upload_key,
    volume,
)
from anno_core.version import __version__
from anno_core.wire import endpoints as ep

CREATE_KEYS = {
    "description",
    "voxel_resolution_x",
    "voxel_resolution_y",
    "voxel_resolution_z",
    "read_permission",
    "write_permission",
    "user_id",
    "notice_text",
    "flat_segmentation_source",
    "table_metadata",
    "reference_table",
    "track_target_id_updates",
}
UPDATE_KEYS = (
    "description",
    "flat_segmentation_source",
    "read_permission",
    "write_permission",
    "user_id",
    "notice_text",
)
FIXED_KEYS = {
    "table_name",
    "schema_type",
    "voxel_resolution_x",
    "voxel_resolution_y",
    "voxel_resolution_z",
    "reference_table",
    "aligned_volume",
}


def _records(body: Any) -> list[dict]:
    body = body_object(body, 'like {"annotations": [...]}')
    records = body.get("annotations")
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise InvalidArgument('The body must hold "annotations": a list of annotation objects.')
    check_size(len(records))
    return records


# -- AnnotationEngine v2 ----------------------------------------------------------------
async def get_tables(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.get_tables, volume(request)))


async def create_table(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol = volume(request)
    body = body_object(await api.json(request), "with table_name, schema_type and metadata")
    name = text_field(body, "table_name")
    schema = text_field(body, "schema_type")
    md = body_object(body.get("metadata", {}), "in 'metadata'")
    unknown = sorted(set(md) - CREATE_KEYS)
    if unknown:
        raise InvalidArgument(
            f"Unknown metadata {', '.join(map(repr, unknown))}; a table "
            f"takes {', '.join(sorted(CREATE_KEYS))}."
        )
    extra = md.get("table_metadata") or {}
    extra = body_object(extra, "in 'table_metadata'")
    resolution = [md.get(f"voxel_resolution_{a}") for a in "xyz"]
    if any(v is None for v in resolution):
        raise InvalidArgument(
            "voxel_resolution_x, _y and _z are required: the nm per unit of "
            "the positions, like 4, 4 and 40."
        )
    track = extra.get("track_target_id_updates", md.get("track_target_id_updates"))
    created = await api.run(
        b.create_table,
        vol,
        table_name=name,
        schema_name=schema,
        description=md.get("description"),
        voxel_resolution=resolution,
        reference_table=extra.get("reference_table", md.get("reference_table")),
        track_target_id_updates=track,
        flat_segmentation_source=md.get("flat_segmentation_source"),
        user_id=md.get("user_id"),
        write_permission=md.get("write_permission", "PRIVATE"),
        read_permission=md.get("read_permission", "PUBLIC"),
        notice_text=md.get("notice_text"),
    )
    return PlainTextResponse(created)


async def update_metadata(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"table_name": ..., "metadata": {...}}')
    name = text_field(body, "table_name")
    md = body_object(body.get("metadata"), "in 'metadata'")
    fixed = sorted(set(md) & FIXED_KEYS)
    if fixed:
        raise InvalidArgument(
            f"{', '.join(fixed)} can never change after a table is "
            "created; make a new table instead."
        )
    unknown = sorted(set(md) - set(UPDATE_KEYS))
    if unknown:
        raise InvalidArgument(
            f"Unknown metadata {', '.join(map(repr, unknown))}; you can "
            f"change {', '.join(UPDATE_KEYS)}."
        )
    changes = {k: md.get(k) for k in UPDATE_KEYS}
    return reply(await api.run(b.update_metadata, volume(request), name, changes))


async def get_table_metadata(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    meta = await api.run(b.get_table_metadata, volume(request), table(request))
    headers = None
    if meta.get("notice_text"):
        headers = {"Warning": f"Table Owner Notice: {header_text(str(meta['notice_text']))}"}
    return reply(meta, headers=headers)


async def delete_table(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.delete_table, volume(request), table(request)))


async def get_count(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    live = flag(request, "live_only")
    return reply(
        await api.run(b.get_annotation_count, volume(request), table(request), live_only=live)
    )


async def get_annotations(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    raw = request.query_params.get("annotation_ids")
    if raw is None or not raw.strip():
        raise InvalidArgument("Give the ids to fetch as ?annotation_ids=1,2,3.")
    ids = ids_from([p.strip() for p in raw.split(",")], "annotation_ids")
    return reply(await api.run(b.get_annotation, volume(request), table(request), ids))


async def post_annotations(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    records = _records(await api.json(request))
    key = upload_key(request, b.user.id, vol, tbl, "insert")
    return reply(await api.keyed(request, b.post_annotation, vol, tbl, records, upload_key=key))


async def put_annotations(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    vol, tbl = volume(request), table(request)
    records = _records(await api.json(request))
    key = upload_key(request, b.user.id, vol, tbl, "update")
    try:
        result = await api.keyed(request, b.update_annotation, vol, tbl, records, upload_key=key)
    except AlreadySuperseded as exc:
        return await api.repeated_update(b, key, exc)
    return reply(result)


async def delete_annotations(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"annotation_ids": [1, 2]}')
    ids = ids_from(body.get("annotation_ids"), "annotation_ids")
    return reply(await api.run(b.delete_annotation, volume(request), table(request), ids))


async def annotation_versions(api: Api, request: Request) -> Response:
    return reply([2])


async def version(api: Api, request: Request) -> Response:
    return reply(__version__)


async def health(api: Api, request: Request) -> Response:
    await api.run(api.backend.volumes)
    # "worker": which process answered (``serve --workers N`` runs several).
    return reply({"status": "ok", "version": __version__, "worker": os.getpid()})


# -- schema service ---------------------------------------------------------------------
async def schema_versions(api: Api, request: Request) -> Response:
    return reply([2])


async def schema_types(api: Api, request: Request) -> Response:
    return reply(list(schema_names()))


async def schema_type(api: Api, request: Request) -> Response:
    return reply(json_schema(request.path_params["schema_type"]))


# -- info service -----------------------------------------------------------------------
async def info_versions(api: Api, request: Request) -> Response:
    return reply([2])


async def datastack_info(api: Api, request: Request) -> Response:
    """Datastack X is aligned volume X (created on first use), served by this server."""
    b = await api.acting(request)
    name = check_volume_name(request.path_params["datastack"])
    if request.state.cookie and name not in await api.run(b.volumes):
        check_cookie_write(request, api.settings, has_body=False)  # this GET would create it
    vid = await api.run(b.datastack_volume, name)
    base = str(request.base_url).rstrip("/")
    return reply(
        {
            "datastack": name,
            "local_server": base,
            "aligned_volume": {
                "name": name,
                "id": vid,
                "display_name": name,
                "description": f"aligned volume {name} of the anno_core server",
                "image_source": None,
            },
            # No segmentation is bound; caveclient's live_query still builds a chunkedgraph
            # client from this (its table name is the text after the last "/"), and our
            # segmentation routes answer it for tables without root ids.
            "segmentation_source": f"anno://no-segmentation/{name}",
            "synapse_table": None,
            "soma_table": None,
            "viewer_site": None,
            "description": f"datastack {name}: the aligned volume of the same name",
        }
    )


ROUTES: Routes = (
    (ep.TABLES, get_tables, ["GET"]),
    (ep.TABLES, create_table, ["POST"]),
    (ep.TABLES, update_metadata, ["PUT"]),
    (ep.TABLE, get_table_metadata, ["GET"]),
    (ep.TABLE, delete_table, ["DELETE"]),
    (ep.COUNT, get_count, ["GET"]),
    (ep.ANNOTATIONS, get_annotations, ["GET"]),
    (ep.ANNOTATIONS, post_annotations, ["POST"]),
    (ep.ANNOTATIONS, put_annotations, ["PUT"]),
    (ep.ANNOTATIONS, delete_annotations, ["DELETE"]),
    (ep.ANNOTATION_VERSIONS, annotation_versions, ["GET"]),
    (ep.VERSION, version, ["GET"]),
    (ep.HEALTH, health, ["GET"]),
    (ep.SCHEMA_VERSIONS, schema_versions, ["GET"]),
    (ep.SCHEMA_TYPES, schema_types, ["GET"]),
    (ep.SCHEMA_TYPE, schema_type, ["GET"]),
    (ep.INFO_VERSIONS, info_versions, ["GET"]),
    (ep.INFO_DATASTACK, datastack_info, ["GET"]),
)
