"""The dashboard's one door to `anno_core`: the cached client of this browser session.

Pages and the sidebar import this module, never `anno_core` itself. It keeps, in
``st.session_state``, which engine the session is connected to (`Connection`), which aligned
volume and which table it looks at, and hands out an `AnnotationClient` built by
``anno_core.connect`` and cached per (connection, volume) with ``st.cache_resource``. The
client's default aligned volume is the sidebar's choice, so a page never passes
``aligned_volume_name``.

Refusals are shown as the sentence `anno_core` gives: wrap calls in ``with errors_shown():``
or use `attempt`. Nothing here formats SQL, HTTP or records.

A new page (upload, edit) does::

    from ui import client as api
    from ui import widgets as w

    st.title("Upload")
    api.show_flash()
    details = api.table_details()            # rows, owner, can_read/can_write per table
    detail = w.table_picker(details, key="up_pick")   # remembers api.current_table()
    ok, result = api.attempt(api.client().post_annotation_df, name, frame, None)
    deck, info = api.points_deck(frame, position="pt_position", resolution=res,
                                 color_by="cell_type", existing=old, marked=bad_rows)
    st.pydeck_chart(deck); st.caption(info.summary())

and adds one ``st.Page`` line to app.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

import anno_core
from anno_core import AnnoError, AnnotationClient
from anno_core.common import CHUNK
from anno_core.errors import NotSupported
from anno_core.ingest.extent import DATASETS
from anno_core.ingest.frames import scale_factor
from anno_core.ingest.mapping import column_triples
from anno_core.ingest.plan import file_digest
from anno_core.ingest.schema_fit import better_schemas
from anno_core.ingest.templates import csv_template
from anno_core.ingest.versions import state_of
from anno_core.names import check_volume_name
from anno_core.permissions import PERMISSION_HELP, PERMISSIONS
from ui.preview import MAX_POINTS, LegendEntry, PreviewInfo, points_deck
from ui.text import md

__all__ = [
    "AnnoError",
    "AnnotationClient",
    "CHUNK",
    "Connection",
    "DATASETS",
    "LegendEntry",
    "MAX_POINTS",
    "NotSupported",
    "PERMISSIONS",
    "PERMISSION_HELP",
    "PreviewInfo",
    "attempt",
    "better_schemas",
    "client",
    "column_triples",
    "connection",
    "csv_template",
    "current_table",
    "errors_shown",
    "file_digest",
    "flash",
    "points_deck",
    "scale_factor",
    "show_flash",
    "set_current_table",
    "state_of",
    "table_deck",
    "table_details",
    "volume",
    "volumes",
]

_CONN = "anno_connection"
_VOLUME = "anno_volume"
_NEW_VOLUMES = "anno_new_volumes"
_TABLE = "anno_table"
_FLASH = "anno_flash"
COLOR_ROW_LIMIT = 200_000  # above this, the table view reads positions only


@dataclass(frozen=True)
class Connection:
    """Which engine a session talks to (the aligned volume is kept apart)."""

    backend: str = "embedded"
    data_dir: str = "./data"
    user: str | None = None
    server_address: str | None = None
    datastack: str | None = None
    aligned_volume: str | None = None
    token: str | None = None

    @classmethod
    def from_environment(cls) -> Connection:
        """The connection the ``ANNO_*`` settings describe."""
        s = anno_core.Settings()
        return cls(
            backend=s.backend,
            data_dir=str(s.data_dir),
            user=s.user,
            server_address=s.server_address,
            datastack=s.datastack,
            aligned_volume=s.aligned_volume if s.backend == "server" else None,
            token=s.token,
        )

    @property
    def embedded(self) -> bool:
        return self.backend == "embedded"

    def overrides(self, volume: str | None) -> dict[str, Any]:
        """Keyword arguments for ``anno_core.connect``."""
        if self.embedded:
            out: dict[str, Any] = {"backend": "embedded", "data_dir": self.data_dir}
            if self.user:
                out["user"] = self.user
        else:
            out = {
                k: v
                for k, v in asdict(self).items()
                if k in ("server_address", "datastack", "token") and v
            }
            out["backend"] = "server"
            if self.aligned_volume:
                out["aligned_volume"] = self.aligned_volume
        if volume:
            out["aligned_volume"] = volume
        return out

    def key(self) -> tuple:
        return tuple(asdict(self).values())


@st.cache_resource(show_spinner=False, max_entries=32)
def _connect(key: tuple, overrides_items: tuple) -> AnnotationClient:
    return anno_core.connect(**dict(overrides_items))


def _build(conn: Connection, vol: str | None) -> AnnotationClient:
    overrides = conn.overrides(vol)
    return _connect((conn.key(), vol), tuple(sorted(overrides.items())))


# -- the session's connection, volume and table ----------------------------------------
def connection() -> Connection:
    """This session's connection (from the ``ANNO_*`` settings until the user changes it)."""
    if _CONN not in st.session_state:
        st.session_state[_CONN] = Connection.from_environment()
    return st.session_state[_CONN]


def volume() -> str:
    """The aligned volume this session looks at."""
    vol = st.session_state.get(_VOLUME)
    if vol:
        return vol
    return _build(connection(), None).aligned_volume_name


def client() -> AnnotationClient:
    """The cached client of this session, acting in the session's aligned volume."""
    return _build(connection(), st.session_state.get(_VOLUME))


def session_volume() -> str | None:
    """The aligned volume the session chose (None: the connection's default)."""
    return st.session_state.get(_VOLUME)


def client_for(conn: tuple, vol: str | None) -> AnnotationClient:
    """The cached client of a connection key and volume (for cached reads keyed by them)."""
    return _build(Connection(*conn), vol)


def volume_is_fixed() -> bool:
    """A server reached through a datastack serves that datastack's aligned volume only."""
    conn = connection()
    return not conn.embedded and bool(conn.datastack)


def volumes() -> list[str]:
    """Aligned volumes to choose from: those the engine knows and those named here."""
    names = set(st.session_state.get(_NEW_VOLUMES, ()))
    names.add(volume())
    with errors_shown():
        names.update(_build(connection(), None).get_aligned_volumes())
    return sorted(names)


def set_volume(name: str) -> None:
    """Switch to aligned volume ``name`` (raises InvalidName for a bad name)."""
    check_volume_name(name)
    st.session_state[_VOLUME] = name
    st.session_state.pop(_TABLE, None)


def add_volume(name: str) -> None:
    """Name a new aligned volume and switch to it; it is stored with its first table."""
    check_volume_name(name)
    st.session_state[_NEW_VOLUMES] = sorted({*st.session_state.get(_NEW_VOLUMES, ()), name})
    set_volume(name)


def set_user(name: str) -> None:
    """Act as another user of the embedded engine."""
    st.session_state[_CONN] = replace(connection(), user=name)


def connect_server(
    server_address: str, datastack: str = "", aligned_volume: str = "", token: str = ""
) -> None:
    """Connect this session to an annotation server, or raise AnnoError saying why not."""
    if not server_address.strip():
        raise AnnoError("Give the server's address, like https://cave.example.org.")
    if not datastack.strip() and not aligned_volume.strip():
        raise AnnoError("Give a datastack or an aligned volume to work in.")
    if aligned_volume.strip():
        check_volume_name(aligned_volume.strip())
    conn = Connection(
        backend="server",
        data_dir=connection().data_dir,
        server_address=server_address.strip(),
        datastack=datastack.strip() or None,
        aligned_volume=aligned_volume.strip() or None,
        token=token.strip() or None,
    )
    try:
        candidate = _build(conn, None)
    except ModuleNotFoundError as exc:  # the server backend ships separately
        raise AnnoError(
            "This installation cannot talk to annotation servers yet; use the embedded engine."
        ) from exc
    candidate.get_tables()  # the first call that talks to the server: proves it works
    st.session_state[_CONN] = conn
    for key in (_VOLUME, _TABLE, _NEW_VOLUMES):
        st.session_state.pop(key, None)


def use_embedded() -> None:
    """Go back to the embedded engine of the ``ANNO_*`` settings."""
    conn = Connection.from_environment()
    if not conn.embedded:
        conn = Connection(data_dir=conn.data_dir)
    st.session_state[_CONN] = conn
    for key in (_VOLUME, _TABLE, _NEW_VOLUMES):
        st.session_state.pop(key, None)


def users() -> list[dict] | None:
    """The engine's users, or None where they cannot be listed (a CAVE server)."""
    try:
        return client().list_users()
    except NotSupported:
        return None


def current_table() -> str | None:
    """The table the user last opened, shared by all pages."""
    return st.session_state.get(_TABLE)


def set_current_table(name: str | None) -> None:
    st.session_state[_TABLE] = name


# -- messages and refusals -------------------------------------------------------------
def flash(message: str, kind: str = "success") -> None:
    """A message shown once on the next run (after st.rerun or a page switch)."""
    st.session_state[_FLASH] = (kind, message)


def has_flash() -> bool:
    """Whether a message waits to be shown on this run (say, just after a save)."""
    return _FLASH in st.session_state


def show_flash() -> None:
    item = st.session_state.pop(_FLASH, None)
    if item:
        kind, message = item
        getattr(st, kind)(message)


@contextmanager
def errors_shown(where: Any = None) -> Iterator[None]:
    """Show an AnnoError as its sentence (never a traceback) and carry on."""
    try:
        yield
    except AnnoError as error:
        (where or st).error(md(str(error)), icon=":material/error:")


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """(True, result) or (False, the refusal's sentence); nothing is shown."""
    try:
        return True, fn(*args, **kwargs)
    except AnnoError as error:
        return False, str(error)


# -- reads the pages share -------------------------------------------------------------
def table_details() -> list[dict]:
    """Every table of the session's volume with counts, owner and the user's rights."""
    return client().get_table_details()


def _version(detail: dict) -> tuple:
    return (detail.get("total_count"), detail.get("live_count"), detail.get("last_modified"))


@st.cache_resource(show_spinner="Reading the table's points...", max_entries=6, ttl=3600)
def _deck(
    key: tuple,
    table: str,
    point_field: str,
    color_by: str | None,
    resolution: tuple[float, float, float],
    small: bool,
) -> tuple[Any, PreviewInfo]:
    conn, vol = key[0], key[1]
    c = _build(Connection(*conn), vol)
    if small:
        frame = c.query_annotations(table, limit=COLOR_ROW_LIMIT + 1)
    else:
        frame, _, _ = c.get_point_frame(table)
    return points_deck(
        frame,
        position=point_field,
        resolution=resolution,
        color_by=color_by,
        tooltip_columns=("id",),
    )


def table_deck(
    detail: dict, point_field: str, color_by: str | None = None
) -> tuple[Any, PreviewInfo]:
    """The 3D view of a table's live points (cached until the table changes)."""
    resolution = (
        float(detail["voxel_resolution_x"]),
        float(detail["voxel_resolution_y"]),
        float(detail["voxel_resolution_z"]),
    )
    small = (detail.get("live_count") or 0) <= COLOR_ROW_LIMIT
    key = (connection().key(), st.session_state.get(_VOLUME), _version(detail))
    return _deck(
        key, detail["table_name"], point_field, color_by if small else None, resolution, small
    )


def colorable(detail: dict) -> bool:
    """Whether the table view can colour by a column (tables up to COLOR_ROW_LIMIT rows)."""
    return (detail.get("live_count") or 0) <= COLOR_ROW_LIMIT


def sample_rows(table: str, limit: int = 20) -> pd.DataFrame:
    """The first live rows of a table, with the columns people read."""
    frame = client().query_annotations(table, limit=limit)
    hidden = {"deleted", "superceded_id", "valid", "deleted_by", "created_by"}
    return frame[[c for c in frame.columns if c not in hidden]]
