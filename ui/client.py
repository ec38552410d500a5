"""The dashboard's one door to `anno_core`: the cached client of this browser session.

Pages and the sidebar import this module, never `anno_core` itself. It keeps, in
``st.session_state``, which engine the session is connected to (`Connection`), which aligned
volume and which table it looks at, and hands out an `AnnotationClient` built by
``anno_core.connect`` and cached per (connection, volume) with ``st.cache_resource`` (the
connection holds the token: two people never share a client). The client's default aligned
volume is the sidebar's choice, so a page never passes ``aligned_volume_name``.

Refusals are shown as the sentence `anno_core` gives (`errors_shown`, `attempt`). With
sign-in on (``ANNO_DASHBOARD_AUTH``), the connection is the signed-in person's (`sign_in`).

A new page (upload, edit) does::

    from ui import client as api
    from ui import widgets as w

    st.title("Upload")
    api.show_flash()
    details = api.table_details()            # rows, owner, can_read/can_write per table
    detail = w.table_picker(details, key="up_pick")   # remembers api.current_table()
    deck, info = api.points_deck(frame, position="pt_position", resolution=res,
                                 color_by="cell_type", existing=old, marked=bad_rows)
    st.pydeck_chart(deck); st.caption(info.summary())
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

import streamlit as st

import anno_core
from anno_core import AnnoError, AnnotationClient
from anno_core.activity import KINDS, sentence
from anno_core.common import CHUNK
from anno_core.errors import AnnoWarning, NotAuthenticated, NotSupported, PermissionDenied
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
    "KINDS",
    "AnnoError",
    "AnnotationClient",
    "AnnoWarning",
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
    "sentence",
    "show_flash",
    "set_current_table",
    "state_of",
    "table_details",
    "volume",
    "volumes",
]

_CONN = "anno_connection"
_VOLUME = "anno_volume"
_NEW_VOLUMES = "anno_new_volumes"
_TABLE = "anno_table"
_FLASH = "anno_flash"


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
    identity: str | None = None  # admin flag and groups at sign-in: a change, a new client

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
def auth_mode() -> str:
    """``ANNO_DASHBOARD_AUTH``: none, token or oidc."""
    return anno_core.Settings().dashboard_auth


def signed_in() -> bool:
    """Whether people sign in here (token or oidc), so the session acts as one person."""
    return auth_mode() != "none"


def connection() -> Connection:
    """This session's connection (from the ``ANNO_*`` settings until the user changes it;
    with sign-in on, the signed-in person's, set by `sign_in`)."""
    if _CONN not in st.session_state:
        if signed_in():  # the gate in app.py runs no page before sign-in: a bug if here
            raise NotAuthenticated("Sign in first.")
        st.session_state[_CONN] = Connection.from_environment()
    return st.session_state[_CONN]


def sign_in(me: dict, token: str | None, fresh: bool = True) -> None:
    """Act as user ``me`` from now on (on a server with their own token, never another's);
    ``fresh`` starts a clean session, else only a changed admin flag or group is noted."""
    base = Connection.from_environment() if fresh else connection()
    user, token = (me["name"], None) if base.embedded else (None, token)
    stamp = f"{bool(me['is_admin'])}:{','.join(sorted(me['groups']))}"
    conn = replace(base, user=user, token=token if fresh else base.token, identity=stamp)
    if fresh:
        st.session_state.clear()  # nothing of an earlier person's session stays
    st.session_state[_CONN] = conn


def _only_when_not_signed_in(what: str) -> None:
    if signed_in():
        raise PermissionDenied(f"Signed in, this dashboard acts as you only: no {what}.")


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
    """Act as another user of the embedded engine (only without sign-in)."""
    _only_when_not_signed_in("acting as another user")
    st.session_state[_CONN] = replace(connection(), user=name)


def connect_server(
    server_address: str, datastack: str = "", aligned_volume: str = "", token: str = ""
) -> None:
    """Connect this session to an annotation server, or raise AnnoError saying why not."""
    _only_when_not_signed_in("connecting to another server")
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
    _only_when_not_signed_in("switching engines")
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
    """Every table of the session's volume with counts, owner and the user's rights; with
    sign-in on, only the tables the signed-in person may read."""
    details = client().get_table_details()
    if signed_in():
        details = [d for d in details if d.get("can_read") is not False]
    return details
