"""Tables as Neuroglancer precomputed annotation sources, and the grants that open them.

A client with a token asks for a grant (`grant`: POST with the view's filters and, for the
table as it was at a past moment, its ``timestamp`` and the ``version`` that named it); the grant
is a path segment of the source address, so a viewer reads ``info``, cells and ``by_id``
with plain GETs. Each of those requests acts as the grant's user: the engine checks the
read permission every time (a private table's source is 403 to everyone else). Source
answers carry ``Access-Control-Allow-Origin: *`` so a viewer served elsewhere (a public
Neuroglancer) can read them; refusals too, so such a viewer sees a status, not a network
error. The aligned volume's image and segmentation layers are read by anyone who may use
the volume and set by admins.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from anno_core.errors import AnnoError, InvalidArgument, NotAuthenticated, NotFound, UserNotFound
from anno_core.moments import parse_moment
from anno_core.neuroglancer.encoding import parse_cell
from anno_core.neuroglancer.state import state_url
from anno_core.neuroglancer.table_state import moment_name, sourced_state
from anno_core.server.http import (
    Api,
    Routes,
    body_object,
    dumps,
    error_reply,
    internal_error,
    logger,
    reply,
    table,
    text_field,
    volume,
)
from anno_core.wire import endpoints as ep

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "*"}


def _filters(body: dict[str, Any]) -> dict[str, Any]:
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise InvalidArgument("'filters' must map column names to values.")
    return filters


def _moment(body: dict[str, Any]) -> tuple[Any, str | None]:
    """(timestamp, version name) of a body (the engine parses and checks the timestamp)."""
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, str | int)):
        raise InvalidArgument(f"A version is a name or a number, not {version!r}.")
    return body.get("timestamp"), None if version is None else str(version)


async def grant(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"filters": {}, "ttl": 43200}')
    ttl = body.get("ttl", 43200)
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise InvalidArgument("'ttl' must be a whole number of seconds.")
    at, version = _moment(body)
    got = await api.run(
        b.neuroglancer_source, volume(request), table(request), _filters(body), ttl, at, version
    )
    return reply(got)


async def view_info(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), 'like {"filters": {}}')
    at, _ = _moment(body)
    return reply(
        await api.run(b.neuroglancer_info, volume(request), table(request), _filters(body), at)
    )


async def layers(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    return reply(await api.run(b.volume_sources, volume(request)))


async def set_layers(api: Api, request: Request) -> Response:
    b = await api.acting(request)
    body = body_object(await api.json(request), "with image_source, segmentation_source")
    image = text_field(body, "image_source", required=False)
    seg = text_field(body, "segmentation_source", required=False)
    return reply(await api.run(b.set_volume_sources, volume(request), image, seg))


# -- the source a viewer reads (signed path, no token) ----------------------------------
Handler = Callable[[Api, Request], Awaitable[Response]]


def open_to_all(api: Api, fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint whose every answer, refusals included, may be read by any origin."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await fn(api, request)
        except AnnoError as exc:
            response = error_reply(exc)
        except Exception:
            logger.exception("Unexpected failure on %s %s", request.method, request.url.path)
            response = internal_error()
        response.headers.update(CORS)
        return response

    endpoint.__name__ = fn.__name__
    return endpoint


async def _granted(api: Api, request: Request) -> tuple[Any, Any]:
    """(grant, engine acting as its user) of the grant in the path."""
    backend = api.backend
    g = await api.run(backend.neuroglancer_grant, request.path_params["grant"])
    try:
        user = await api.run(backend.users.get, g.user_id)
    except UserNotFound as exc:
        raise NotAuthenticated("The user this source address was made for is gone.") from exc
    return g, backend.as_user(user)


async def _view(api: Api, request: Request, version: int | None) -> tuple[Any, int, str]:
    """(view, version, geometry) a grant opens, read as the grant's user."""
    g, b = await _granted(api, request)
    view, version = await api.run(
        b.neuroglancer_view, g.volume, g.table, g.filters, version, g.moment
    )
    geometry = request.path_params["geometry"]
    if geometry not in view.layout.geometries:
        raise NotFound(
            f"Table '{g.table}' has no {geometry!r} source; it has "
            f"{' and '.join(view.layout.geometries)}."
        )
    return view, version, geometry


def _version(request: Request) -> int:
    text = request.path_params["version"]
    if not text.isdigit():
        raise NotFound(f"{text!r} is not a version of this source; reload the viewer.")
    return int(text)


async def source_info(api: Api, request: Request) -> Response:
    view, version, geometry = await _view(api, request, None)
    return Response(dumps(view.info(geometry, prefix=f"{version}/")), media_type="application/json")


async def source_cell(api: Api, request: Request) -> Response:
    view, _, geometry = await _view(api, request, _version(request))
    level, cell = request.path_params["level"], parse_cell(request.path_params["cell"])
    if not level.isdigit() or cell is None:
        raise NotFound("There is no such cell; cells are named like spatial0/0_1_0.")
    data = await api.run(view.cell, geometry, int(level), cell)
    return Response(data, media_type="application/octet-stream")


async def source_by_id(api: Api, request: Request) -> Response:
    view, _, geometry = await _view(api, request, _version(request))
    text = request.path_params["annotation_id"]
    found = await api.run(view.by_id, geometry, int(text)) if text.isdigit() else None
    if found is None:
        raise NotFound(f"This source has no annotation {text!r}.")
    return Response(found, media_type="application/octet-stream")


async def open_viewer(api: Api, request: Request) -> Response:
    """A page that opens the viewer on a grant's table: the state is built now, so the link
    to this page costs nothing to make."""
    g, b = await _granted(api, request)
    info = await api.run(b.neuroglancer_info, g.volume, g.table, g.filters, g.moment)
    view, _ = await api.run(
        b.neuroglancer_view, g.volume, g.table, g.filters, info["version"], g.moment
    )
    base = str(request.base_url).rstrip("/")
    token = request.path_params["grant"]
    urls = {
        geometry: ep.url(base, ep.NG_SOURCE, grant=token, geometry=geometry)
        for geometry in view.layout.geometries
    }
    layers = await api.run(b.volume_sources, g.volume)
    color_by = request.query_params.get("color_by")
    moment = moment_name(parse_moment(g.moment), g.version)
    state, _ = sourced_state(
        g.table, bool(g.filters), view.layout, view.resolution, urls, info, layers, color_by, moment
    )
    target = html.escape(state_url(base + ep.VIEWER.format(token=ep.VIEWER_TOKEN) + "/", state))
    page = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={target}">'
        "<title>Opening Neuroglancer</title></head>"
        f'<body><p>Opening Neuroglancer... <a href="{target}">open it here</a>.</p></body></html>'
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


ROUTES: Routes = (
    (ep.NG_GRANT, grant, ["POST"]),
    (ep.NG_INFO, view_info, ["POST"]),
    (ep.VOLUME_LAYERS, layers, ["GET"]),
    (ep.VOLUME_LAYERS, set_layers, ["PUT"]),
)
"""Token-authenticated routes (registered with the others)."""

SOURCE_ROUTES: Routes = (
    (ep.NG_OPEN, open_viewer, ["GET"]),
    (ep.NG_SOURCE + ep.SOURCE_INFO, source_info, ["GET"]),
    (ep.NG_SOURCE + ep.SOURCE_CELL, source_cell, ["GET"]),
    (ep.NG_SOURCE + ep.SOURCE_BY_ID, source_by_id, ["GET"]),
)
"""The signed source routes (registered with `open_to_all`)."""
