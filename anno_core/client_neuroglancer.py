"""What `AnnotationClient` offers for Neuroglancer: viewer states, links to the viewer this
machine serves, shareable links, and a file's points before upload (a mixin).

Where the viewer and the sources live: on the embedded engine, a host in this process
(`anno_core.server.local`, 127.0.0.1, started on first need); on our server, the server
itself (it serves the package's viewer at ``/v/ng/``). Sources are signed grants acting as
the caller (`Backend.neuroglancer_source`), so opening a table never lets anyone read more
than the caller may. A shareable link opens the same state on a public Neuroglancer
(``ANNO_NEUROGLANCER_URL``): with the rows inside it when there are at most `MAX_INLINE`,
else with the source address, and a sentence when that address is out of others' reach.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from anno_core.backend import Backend
from anno_core.client_ng_file import BIG_ENUM, ClientNeuroglancerFile, NeuroglancerLink, all_labels
from anno_core.errors import AnnoWarning, InvalidArgument
from anno_core.moments import Moment
from anno_core.neuroglancer import grants
from anno_core.neuroglancer import state as ngs
from anno_core.neuroglancer.encoding import anchors
from anno_core.neuroglancer.layout import (
    Layout,
    Prop,
    layout,
)
from anno_core.neuroglancer.layout import properties as table_properties
from anno_core.neuroglancer.links import reach_note
from anno_core.neuroglancer.table_state import (
    colour_prop,
    layer_name,
    moment_name,
    sourced_state,
)
from anno_core.schemas import AXES, SchemaSpec, schema_spec
from anno_core.settings import Settings
from anno_core.wire import endpoints as ep

MAX_INLINE = 5_000
"""Most rows a state carries itself (a shared link); above, it names the source."""


class ClientNeuroglancer(ClientNeuroglancerFile):
    """The Neuroglancer methods of AnnotationClient (mixed into it)."""

    # Provided by AnnotationClient.
    backend: Backend
    settings: Settings
    _vol: Callable[[str | None], str]
    get_table_metadata: Callable[..., dict]
    moment_of: Callable[..., Moment]

    # -- where things are served ---------------------------------------------------------
    def _local_host(self, with_tables: bool = True) -> str:
        from anno_core.server.local import local_host

        embedded = self.settings.backend == "embedded"
        return local_host(self.settings if embedded and with_tables else None)

    def _viewer(self, server: str | None) -> str:
        """The viewer's page on the server that serves the sources (or this machine)."""
        return (server or self._local_host()) + ep.VIEWER.format(token=ep.VIEWER_TOKEN) + "/"

    def _table(self, table: str, volume: str | None) -> tuple[str, SchemaSpec, Layout, tuple]:
        vol = self._vol(volume)
        meta = self.get_table_metadata(table, aligned_volume_name=vol)
        spec = schema_spec(meta["schema_type"])
        res = tuple(float(meta[f"voxel_resolution_{a}"]) for a in AXES)
        return vol, spec, layout(spec), res

    # -- states ----------------------------------------------------------------------------
    def neuroglancer_state(
        self,
        table_name: str,
        filters: dict | None = None,
        *,
        color_by: str | None = None,
        inline: bool = False,
        timestamp: Any = None,
        version: Any = None,
        aligned_volume_name: str | None = None,
    ) -> dict[str, Any]:
        """A Neuroglancer state showing a table (or the rows ``filters`` select), as it is
        or as it was at ``timestamp``/``version``: its source on the server (or this
        machine), or with ``inline`` its rows themselves (at most 5,000)."""
        at = self.moment_of(timestamp, version, aligned_volume_name)
        if inline:
            return self._inline(table_name, filters, color_by, aligned_volume_name, at)[0]
        return self._sourced(table_name, filters, color_by, aligned_volume_name, at)[0]

    def neuroglancer_url(
        self,
        table_name: str,
        filters: dict | None = None,
        *,
        color_by: str | None = None,
        timestamp: Any = None,
        version: Any = None,
        aligned_volume_name: str | None = None,
    ) -> str:
        """The address of the viewer this machine (or the server) serves, showing a table
        (as it was at ``timestamp``/``version``, if given)."""
        return self.neuroglancer_link(
            table_name,
            filters,
            color_by=color_by,
            timestamp=timestamp,
            version=version,
            aligned_volume_name=aligned_volume_name,
        ).url

    def neuroglancer_link(
        self,
        table_name: str,
        filters: dict | None = None,
        *,
        color_by: str | None = None,
        share: bool = False,
        timestamp: Any = None,
        version: Any = None,
        aligned_volume_name: str | None = None,
    ) -> NeuroglancerLink:
        """A link showing a table (as it was at ``timestamp``/``version``, if given): on the
        local viewer, or (``share``) on the public one of ``ANNO_NEUROGLANCER_URL``, with
        the rows inside when at most 5,000."""
        at = self.moment_of(timestamp, version, aligned_volume_name)
        if share:
            try:
                got, legend = self._inline(table_name, filters, color_by, aligned_volume_name, at)
                url = ngs.state_url(self.settings.neuroglancer_url, got)
                return NeuroglancerLink(url, legend, inline=True)
            except _TooMany:
                pass
        got, legend, src = self._sourced(
            table_name,
            filters,
            color_by,
            aligned_volume_name,
            at,
            ttl=grants.SHARE_TTL if share else grants.DEFAULT_TTL,
        )
        if not share:
            return NeuroglancerLink(ngs.state_url(self._viewer(src["server"]), got), legend)
        viewer = self.settings.neuroglancer_url
        source_url = src["urls"][0]
        when = datetime.fromisoformat(src["expires"]).astimezone(UTC).strftime("%Y-%m-%d")
        note = reach_note(source_url, viewer)
        lasts = (
            f"The link reads the table from its source address, which works for anyone who "
            f"has the link, with your right to read it, until {when}."
        )
        return NeuroglancerLink(
            ngs.state_url(viewer, got),
            legend,
            note=" ".join(x for x in (note, lasts) if x),
            expires=src["expires"],
        )

    def _sourced(
        self,
        table: str,
        filters: dict | None,
        color_by: str | None,
        volume: str | None,
        at: Moment,
        ttl: int = grants.DEFAULT_TTL,
    ) -> tuple[dict, ngs.Legend, dict]:
        vol, spec, lay, res = self._table(table, volume)
        src = self.backend.neuroglancer_source(vol, table, filters, ttl, at.timestamp, at.version)
        info = self.backend.neuroglancer_info(vol, table, filters, at.timestamp)
        _warn(info.get("notice"))
        host = src["server"] or self._local_host()
        urls = {
            g: ep.url(host, ep.NG_SOURCE, grant=src["grant"], geometry=g) for g in src["geometries"]
        }
        layers = self.backend.volume_sources(vol)
        name = moment_name(at.timestamp, at.version)
        state, legend = sourced_state(
            table, bool(filters), lay, res, urls, info, layers, color_by, name
        )
        return state, legend, {**src, "urls": list(urls.values())}

    def neuroglancer_open_url(
        self,
        table_name: str,
        filters: dict | None = None,
        *,
        color_by: str | None = None,
        timestamp: Any = None,
        version: Any = None,
        aligned_volume_name: str | None = None,
    ) -> str:
        """An address that opens the table (as it was at ``timestamp``/``version``, if
        given) in the viewer of the server (or this machine), the state being built when it
        is followed: cheap to make, for a page's button."""
        vol = self._vol(aligned_volume_name)
        at = self.moment_of(timestamp, version, vol)
        src = self.backend.neuroglancer_source(
            vol, table_name, filters, grants.DEFAULT_TTL, at.timestamp, at.version
        )
        host = src["server"] or self._local_host()
        url = ep.url(host, ep.NG_OPEN, grant=src["grant"])
        return url + (f"?{urlencode({'color_by': color_by})}" if color_by else "")

    def neuroglancer_legend(
        self,
        table_name: str,
        color_by: str | None,
        filters: dict | None = None,
        aligned_volume_name: str | None = None,
        *,
        timestamp: Any = None,
        version: Any = None,
    ) -> ngs.Legend:
        """The colour of each value of ``color_by`` in the states of a table."""
        vol = self._vol(aligned_volume_name)
        at = self.moment_of(timestamp, version, vol)
        info = self.backend.neuroglancer_info(vol, table_name, filters, at.timestamp)
        return ngs.legend(colour_prop([Prop.from_info(p) for p in info["properties"]], color_by))

    def _inline(
        self,
        table: str,
        filters: dict | None,
        color_by: str | None,
        volume: str | None,
        at: Moment,
    ) -> tuple[dict, ngs.Legend]:
        vol, spec, lay, res = self._table(table, volume)
        rows = self.backend.query(
            vol, table, limit=MAX_INLINE + 1, filters=filters, timestamp=at.timestamp
        )
        if len(rows) > MAX_INLINE:
            raise _TooMany(
                f"Table '{table}' has more than {MAX_INLINE:,} rows{' here' if filters else ''}; "
                "a state holds at most that many: open its source instead (inline=False)."
            )
        _warn(rows.attrs.get("notice"))
        labels = {
            f.column: all_labels(rows[f.column])
            for f in spec.data_fields
            if f.kind == "str" and f.column in rows
        }
        props = table_properties(spec, lay, labels, max_enum=BIG_ENUM)
        colour = colour_prop(props, color_by)
        counts = rows[colour.column].value_counts().to_dict() if colour is not None else None
        legend = ngs.legend(colour, counts)
        name = layer_name(table, bool(filters), moment_name(at.timestamp, at.version))
        layers = ngs.volume_layers(self.backend.volume_sources(vol))
        shader = ngs.shader(colour, legend)
        for geometry in lay.geometries:
            label = name if geometry == lay.geometries[0] else f"{name} centres"
            layers.append(ngs.inline_layer(label, lay, props, rows, geometry, res, shader))
        return ngs.viewer_state(res, _box(lay, rows), layers, selected=name), legend

    # -- the layers under a volume's tables --------------------------------------------------
    def get_volume_sources(self, aligned_volume_name: str | None = None) -> dict:
        """The image and segmentation sources Neuroglancer draws under a volume's tables."""
        return self.backend.volume_sources(self._vol(aligned_volume_name))

    def set_volume_sources(
        self,
        image_source: str | None,
        segmentation_source: str | None,
        aligned_volume_name: str | None = None,
    ) -> dict:
        """Set (None or '': clear) a volume's image and segmentation sources; admins only."""
        return self.backend.set_volume_sources(
            self._vol(aligned_volume_name), image_source, segmentation_source
        )

    # -- reading a state back ----------------------------------------------------------------
    @staticmethod
    def neuroglancer_layers(source: Any) -> list[Any]:
        """The annotation layers of a Neuroglancer state or link (name, count, kinds)."""
        from anno_core.ingest.ng_import import layer_summaries

        return layer_summaries(source)

    def read_neuroglancer(
        self,
        source: Any,
        table_name: str,
        *,
        layer: str | None = None,
        name: str | None = None,
        aligned_volume_name: str | None = None,
    ) -> Any:
        """One annotation layer of a state as rows for ``table_name`` (positions in its
        voxels), to pass to `open_upload` like a CSV file."""
        from anno_core.ingest.ng_import import read_state

        _, _, _, res = self._table(table_name, aligned_volume_name)
        return read_state(source, res, layer=layer, name=name)


class _TooMany(InvalidArgument):
    """More rows than a state may carry."""


def _warn(notice: str | None) -> None:
    """Say what a read at a moment said beside its rows (the table did not exist yet)."""
    if notice:
        warnings.warn(AnnoWarning(notice), stacklevel=4)


def _box(lay: Layout, rows: pd.DataFrame) -> tuple[list[float], list[float]] | None:
    if rows.empty:
        return None
    pts = anchors(lay, rows)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return None
    return pts.min(axis=0).tolist(), pts.max(axis=0).tolist()
