"""The embedded engine's side of Neuroglancer: signed source grants, the views they open,
and each aligned volume's image and segmentation layers.

A mixin of `LocalBackend`. Every read checks the acting user's read permission first (a
grant acts as the user who asked for it, and is checked again on every request). Views are
kept in a small per-process cache keyed by table, filters and version, so a viewer's many
cell requests reuse one view; a view holds no user data (the permission check is done
before it is used).

A filtered view of at most `FRAME_ROWS` rows is read into memory (`FrameSource`, read again
after `FRAME_SECONDS`): its levels then fit its own rows, not the whole table's. A larger
one is served from the table's index with the filters applied to each cell.

A view may show the table at a past *moment* (`reads.as_of`): the rows live then, pinned to
it. The spatial index keeps every row ever stored (deleted and superseded ones too), so a
cell at a moment is still one range scan of the index, joined to the table and narrowed to
the rows live at that moment. A row's fields never change once stored (an update stores a
new row), so the columns a cell shows are the row's own; only its state columns
(`reads.columns_at`) depend on the moment, and no cell shows them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from anno_core.engine import db, spatial_index
from anno_core.engine.ng_views import TableView
from anno_core.engine.reads import before_created
from anno_core.errors import InvalidArgument, PermissionDenied
from anno_core.moments import parse_moment, shown, wire
from anno_core.neuroglancer import grants
from anno_core.neuroglancer.frame_source import FrameSource
from anno_core.neuroglancer.layout import layout, properties, text_labels

FRAME_ROWS = 100_000
"""Most rows of a filtered view read into memory (above: served from the index)."""
FRAME_SECONDS = 60
"""A filtered view read into memory is read again after this long (rows deleted meanwhile
go away then; a view served from the index drops them at once)."""
SOURCE_FIELDS = ("image_source", "segmentation_source")

_VIEWS: OrderedDict[tuple, Any] = OrderedDict()
_VIEWS_LOCK = threading.Lock()
_SECRETS: dict[str, bytes] = {}


class LocalNeuroglancer:
    """Neuroglancer sources and volume layers of the embedded engine (mixed into it)."""

    # Provided by the backend this is mixed into.
    engine: Any
    url: str
    user: Any
    meta: Any
    require: Any
    table_of: Any
    write_conn: Any
    volume_id: Any
    audit: Any
    _where: Any
    check_moment: Any
    get_version: Any

    # -- grants ----------------------------------------------------------------------------
    def _secret(self) -> bytes:
        """This database's signing key of source addresses (made on first need, shared by
        its servers; kept beside the download links' key in ``server_secrets``)."""
        if self.url not in _SECRETS:
            _SECRETS[self.url] = bytes.fromhex(db.server_secret(self.engine, "neuroglancer"))
        return _SECRETS[self.url]

    def neuroglancer_source(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        ttl: int = grants.DEFAULT_TTL,
        timestamp: Any = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """A signed grant to read a table (or filtered view), as it is or as it was at
        ``timestamp``, as a Neuroglancer source, as the acting user, for ``ttl`` seconds:
        grant, expiry, geometries, moment. ``version`` names the version whose moment
        ``timestamp`` is (checked: the grant's layer is named after it)."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, spec = self.table_of(meta)
        lay = layout(spec)
        filters = dict(filters or {})
        self._where(sa.select(t.c.id), t, table, False, filters, None)  # refuses bad columns
        if not 60 <= int(ttl) <= 30 * 24 * 3600:
            raise InvalidArgument("A source address may live from a minute to 30 days.")
        at = self.check_moment(timestamp)
        name = self._version_of(volume, at, version)
        expires = int(time.time()) + int(ttl)
        grant = grants.Grant(volume, table, filters, int(self.user.id), expires, wire(at), name)
        return {
            "grant": grants.sign(self._secret(), grant),
            "expires": datetime.fromtimestamp(expires, UTC).isoformat(),
            "geometries": list(lay.geometries),
            "server": None,
            "timestamp": wire(at),
            "version": name,
        }

    def _version_of(self, volume: str, at: Any, version: Any) -> str | None:
        """The name of the version ``version`` when its moment is ``at`` (a refusal if not)."""
        if version is None:
            return None
        if at is None:
            raise InvalidArgument(
                "A Neuroglancer source names a version only with the moment it names; give "
                "the version's timestamp too (AnnotationClient does)."
            )
        found = self.get_version(volume, version)
        if parse_moment(found["timestamp"]) != at:
            raise InvalidArgument(
                f"Version {found['name']} names {shown(parse_moment(found['timestamp']))}, "
                f"not {shown(at)}; give its own moment or no version."
            )
        return str(found["name"])

    def neuroglancer_grant(self, token: str) -> grants.Grant:
        """The grant a source address carries (NotAuthenticated if forged or expired)."""
        return grants.verify(self._secret(), token, time.time())

    # -- views -----------------------------------------------------------------------------
    def neuroglancer_view(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        version: int | None = None,
        at: Any = None,
    ) -> tuple[Any, int]:
        """(view, version) of a table or filtered view (as it was at the moment ``at``, if
        given), the read permission checked; the current version (after indexing new rows)
        unless one is given."""
        meta = self.meta(volume, table)
        self.require("read", meta)
        t, spec = self.table_of(meta)
        lay = layout(spec)
        filters = dict(filters or {})
        at = self.check_moment(at)
        if version is None:
            spatial_index.catch_up(self, meta, lay, t)
            with self.engine.connect() as conn:
                version = int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)
        key = (
            self.url,
            int(meta["id"]),
            json.dumps(filters, sort_keys=True),
            int(version),
            wire(at),
        )
        now = time.monotonic()
        with _VIEWS_LOCK:
            made, view = _VIEWS.get(key, (0.0, None))
            if view is not None and (isinstance(view, TableView) or now - made < FRAME_SECONDS):
                _VIEWS.move_to_end(key)
                return view, int(version)

        def where(q: Any, tt: sa.Table) -> Any:
            return self._where(q, tt, table, False, filters, None, at)

        view = self._small_view(meta, spec, lay, t, where, int(version)) if filters else None
        if view is None:
            side = db.spatial_table(int(meta["id"]))
            view = TableView(self.engine, spec, lay, t, side, meta, where, int(version))
        with _VIEWS_LOCK:
            _VIEWS[key] = (now, view)
            _VIEWS.move_to_end(key)
            while len(_VIEWS) > 32:
                _VIEWS.popitem(last=False)
        return view, int(version)

    def _small_view(
        self, meta: dict, spec: Any, lay: Any, t: sa.Table, where: Any, version: int
    ) -> FrameSource | None:
        """A filtered view read into memory, or None when it has more than FRAME_ROWS rows."""
        cols = [t.c.id] + [t.c[c] for c in t.c.keys() if c not in db.SYSTEM_COLUMNS]
        q = where(sa.select(*cols).where(t.c.id <= version), t).order_by(t.c.id)
        with self.engine.connect() as conn:
            res = conn.execute(q.limit(FRAME_ROWS + 1))
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if len(frame) > FRAME_ROWS:
            return None
        labels = {
            f.column: text_labels(frame[f.column].tolist(), complete=True)
            for f in spec.data_fields
            if f.kind == "str"
        }
        res = [float(meta[f"voxel_resolution_{a}"]) for a in "xyz"]
        return FrameSource(lay, properties(spec, lay, labels), res, frame)

    def neuroglancer_info(
        self,
        volume: str,
        table: str,
        filters: dict[str, Any] | None = None,
        timestamp: Any = None,
    ) -> dict[str, Any]:
        """The ``info`` of a table's (or view's) main source (``lines`` for two-point
        schemas, else ``points``), as it is or was at ``timestamp``, with its version (the
        key prefix), the extent of its rows in voxels, and a ``notice`` when the table did
        not exist yet at that moment."""
        at = self.check_moment(timestamp)
        view, version = self.neuroglancer_view(volume, table, filters, None, at)
        geometry = view.layout.geometries[0]
        out = view.info(geometry, prefix=f"{version}/")
        box = view.extent()
        out["version"] = version
        out["extent"] = None if box is None else {"lower": box[0], "upper": box[1]}
        out["timestamp"] = wire(at)
        out["notice"] = None if at is None else before_created(self.meta(volume, table), table, at)
        return out

    # -- the layers under a volume's tables ------------------------------------------------
    def volume_sources(self, volume: str) -> dict[str, str | None]:
        """The image and segmentation sources drawn under a volume's tables (None: unset)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(*(db.aligned_volumes.c[f] for f in SOURCE_FIELDS)).where(
                        db.aligned_volumes.c.name == volume
                    )
                )
                .mappings()
                .first()
            )
        return {f: (row[f] if row else None) for f in SOURCE_FIELDS}

    def set_volume_sources(
        self, volume: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        """Set (or clear, with None or '') a volume's image and segmentation sources;
        admins only."""
        if not self.user.is_admin:
            raise PermissionDenied(
                f"User '{self.user.name}' may not change the layers of aligned volume "
                f"'{volume}': only admins can."
            )
        values = {
            "image_source": check_source("image", image_source),
            "segmentation_source": check_source("segmentation", segmentation_source),
        }
        with self.write_conn() as conn, conn.begin():
            vid = self.volume_id(conn, volume, create=True)
            conn.execute(
                db.aligned_volumes.update().where(db.aligned_volumes.c.id == vid).values(**values)
            )
            self.audit(conn, "set_volume_sources", volume, None, None, values)
        return values


def check_source(what: str, value: str | None) -> str | None:
    """A Neuroglancer data source URL (``precomputed://https://...``, ``gs://...``), or None."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) > 2000 or any(c.isspace() for c in text) or "://" not in text:
        raise InvalidArgument(
            f"The {what} source must be one Neuroglancer data source URL without spaces, "
            f"like precomputed://https://example.org/{what}, not {text[:80]!r}."
        )
    return text
