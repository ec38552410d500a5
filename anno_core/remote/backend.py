"""The remote backend: the same Backend methods over HTTP, to our server or a real CAVE.

``connect(backend="server", server_address=..., datastack=... or aligned_volume=...,
token=...)`` builds one. Nothing is sent until the first call (no network I/O in the
constructor). With a datastack, the info service names the annotation server
(``local_server``) and the aligned volume, as caveclient does; without one, the server
address is the annotation server and the aligned volume is used as given.

Requests are retried only when the answer may not have arrived: connection errors, timeouts
and 502/503/504, with exponential backoff; never on a 4xx. Uploads go in batches of at most
10,000 rows (`remote_upload`), each checked before it is re-sent, so a retry never stores a
row twice. Whether the server is ours (extension routes) or a real CAVE is asked once, on
first need, from our version route (a real CAVE answers 404 there).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import requests
import requests.auth
from packaging.version import InvalidVersion, Version

from anno_core.backend import check_permission, check_resolution, query_ids
from anno_core.errors import (
    AnnoError,
    InvalidArgument,
    NotAuthenticated,
    NotFound,
    NotSupported,
    RemoteError,
    TableExists,
    TableNotFound,
)
from anno_core.identity import User
from anno_core.remote.http import error_from_response, token_from_files
from anno_core.remote.uploads import RemoteUploads
from anno_core.schemas import SchemaSpec, schema_spec
from anno_core.settings import Settings
from anno_core.wire import endpoints as ep

RETRY_STATUS = (502, 503, 504)


class _Transient(Exception):
    """A try whose answer did not arrive (or came from a gateway): it may be retried."""


class _Bearer(requests.auth.AuthBase):
    """The API token as ``Authorization: Bearer`` (set as the session's auth, requests then
    skips its per-request ~/.netrc look-up)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class RemoteBackend(RemoteUploads):
    """The Backend methods over HTTP (requests), to our server or a CAVE deployment."""

    kind = "server"

    def __init__(
        self,
        settings: Settings,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: tuple[float, float] = (10.0, 600.0),
    ) -> None:
        address = (settings.server_address or "").strip().rstrip("/")
        parsed = urllib.parse.urlparse(address)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidArgument(
                f"Server mode needs a server address like http://127.0.0.1:8765, not "
                f"{settings.server_address!r}; set ANNO_SERVER_ADDRESS or server_address."
            )
        self.server = address
        self.datastack = settings.datastack
        explicit = "aligned_volume" in settings.model_fields_set
        self._default_volume = settings.aligned_volume
        self._volume_given = explicit or not self.datastack
        self._token = settings.token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.session = requests.Session()
        self._info: dict[str, Any] | None = None
        self._ours: bool | None = None
        self._schemas: dict[tuple[str, str], str] = {}
        where = (
            f"datastack {self.datastack}"
            if self.datastack
            else f"aligned volume {settings.aligned_volume}"
        )
        self.label = f"server {self.server}, {where}"

    # -- where and who -----------------------------------------------------------------
    def _datastack_info(self) -> dict[str, Any]:
        if self._info is None:
            info = self.get(
                self.server
                + ep.INFO_DATASTACK.format(
                    datastack=urllib.parse.quote(str(self.datastack), safe="")
                ),
                base=self.server,
            )
            if not isinstance(info, dict) or not info.get("local_server"):
                raise RemoteError(
                    f"The info service at {self.server} did not say which "
                    f"annotation server serves datastack {self.datastack!r}."
                )
            self._info = info
        return self._info

    @property
    def annotation_server(self) -> str:
        """Base address of the annotation service (the datastack's ``local_server``)."""
        if self.datastack:
            return str(self._datastack_info()["local_server"]).rstrip("/")
        return self.server

    def default_volume(self) -> str:
        """The aligned volume calls use when they name none."""
        if self._volume_given:
            return self._default_volume
        av = self._datastack_info().get("aligned_volume")
        name = av.get("name") if isinstance(av, dict) else av
        if not isinstance(name, str) or not name:
            raise RemoteError(
                f"The info service at {self.server} names no aligned volume "
                f"for datastack {self.datastack!r}."
            )
        return name

    def vol(self, volume: str) -> str:
        """The volume to use: a datastack's own when the caller gave the default."""
        if not self._volume_given and volume == self._default_volume:
            return self.default_volume()
        return volume

    def token(self) -> str:
        if not self._token:
            self._token = token_from_files(self.server)
        if not self._token:
            raise NotAuthenticated(
                f"No API token for {self.server}: set ANNO_TOKEN (or token=...), or save it "
                "in ~/.cloudvolume/secrets/cave-secret.json as caveclient does."
            )
        return self._token

    def is_ours(self) -> bool:
        """Whether the annotation server is an anno_core server (asked once)."""
        if self._ours is None:
            self._ours = self._our_version() is not None
        return self._ours

    def _our_version(self) -> str | None:
        """Our server's version; None when the server refuses the route (a real CAVE).
        A server that does not answer raises RemoteError, so nothing wrong is remembered."""
        try:
            got = self.get(self.annotation_server + ep.VERSION)
        except RemoteError:
            raise
        except AnnoError:  # 404 on a real CAVE (or its auth layer refusing an unknown route)
            return None
        return got if isinstance(got, str) else None

    def server_version(self) -> Version | None:
        if not self.is_ours():
            return None
        try:
            return Version(str(self._our_version()))
        except InvalidVersion:
            return None

    def url(self, template: str, **parts: Any) -> str:
        return ep.url(self.annotation_server, template, **parts)

    # -- HTTP ----------------------------------------------------------------------------
    def send_once(
        self,
        method: str,
        url: str,
        *,
        base: str | None = None,
        row_of_line: Callable[[], dict] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One try: the response, an AnnoError for a refusal, or _Transient."""
        if self.session.auth is None:
            self.session.auth = _Bearer(self.token())
        try:
            r = self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(
                f"no answer from {base or self.server} ({type(exc).__name__})"
            ) from exc
        if r.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {r.status_code} from {base or self.server}")
        if r.status_code >= 300:
            raise error_from_response(
                r, base or self.server, row_of_line() if row_of_line else None
            )
        return r

    def pause(self, attempt: int) -> None:
        time.sleep(self.backoff * (2**attempt))

    def request(
        self, method: str, url: str, *, base: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send with retries for transient failures; callers make sure it is safe to."""
        attempt = 0
        while True:
            try:
                return self.send_once(method, url, base=base, **kwargs)
            except _Transient as exc:
                if attempt >= self.retries:
                    raise RemoteError(
                        f"The annotation server did not answer after {attempt + 1} tries "
                        f"({exc}); check that it is running and try again."
                    ) from exc
                self.pause(attempt)
                attempt += 1

    def get(self, url: str, *, base: str | None = None, **kwargs: Any) -> Any:
        return _json(self.request("GET", url, base=base, **kwargs))

    # -- tables --------------------------------------------------------------------------
    def get_tables(self, volume: str) -> list[str]:
        return list(self.get(self.url(ep.TABLES, aligned_volume=self.vol(volume))))

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        vol = self.vol(volume)
        meta = self.get(self.url(ep.TABLE, aligned_volume=vol, table_name=table))
        if isinstance(meta, dict) and isinstance(meta.get("schema_type"), str):
            self._schemas[(vol, table)] = meta["schema_type"]
        return meta

    def spec_of(self, volume: str, table: str) -> SchemaSpec:
        """The schema of a table (its schema can never change, so it is asked once)."""
        vol = self.vol(volume)
        if (vol, table) not in self._schemas:
            self.get_table_metadata(vol, table)
        return schema_spec(self._schemas[(vol, table)])

    def create_table(
        self,
        volume: str,
        *,
        table_name: str,
        schema_name: str,
        description: str,
        voxel_resolution: Sequence[float],
        reference_table: str | None,
        track_target_id_updates: bool | None,
        flat_segmentation_source: str | None,
        user_id: Any,
        write_permission: str,
        read_permission: str,
        notice_text: str | None,
    ) -> str:
        vol = self.vol(volume)
        res = check_resolution(voxel_resolution)
        metadata: dict[str, Any] = {
            "description": description,
            "voxel_resolution_x": res[0],
            "voxel_resolution_y": res[1],
            "voxel_resolution_z": res[2],
            "read_permission": check_permission("read_permission", read_permission),
            "write_permission": check_permission("write_permission", write_permission),
        }
        if user_id is not None:
            metadata["user_id"] = str(user_id)  # the real server wants text
        if notice_text is not None:
            metadata["notice_text"] = notice_text
        if flat_segmentation_source is not None:
            metadata["flat_segmentation_source"] = flat_segmentation_source
        if reference_table is not None or track_target_id_updates is not None:
            metadata["table_metadata"] = {
                "reference_table": reference_table,
                "track_target_id_updates": bool(track_target_id_updates),
            }
        body = {"schema_type": schema_name, "table_name": table_name, "metadata": metadata}
        url = self.url(ep.TABLES, aligned_volume=vol)
        try:
            self.send_once("POST", url, json=body)
        except _Transient:
            # The answer was lost: the table may exist now. Ask before trying again.
            self._after_lost_create(vol, table_name, schema_name, description, url, body)
        return table_name

    def _after_lost_create(
        self, vol: str, name: str, schema: str, description: str, url: str, body: dict
    ) -> None:
        for attempt in range(self.retries):
            self.pause(attempt)
            try:
                meta = self.get(self.url(ep.TABLE, aligned_volume=vol, table_name=name))
            except TableNotFound:
                try:
                    self.send_once("POST", url, json=body)
                    return
                except _Transient:
                    continue
                except TableExists:
                    continue  # stored meanwhile: the next look confirms it is ours
            except RemoteError:
                continue
            if meta.get("schema_type") == schema and meta.get("description") == description:
                return
            raise TableExists(
                f"A table called {name!r} already exists in aligned volume "
                f"{vol!r}; choose another name."
            )
        raise RemoteError(
            f"The annotation server did not answer while creating table "
            f"{name!r}; check with get_tables() whether it exists."
        )

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        metadata = {
            k: (str(v) if k == "user_id" else v) for k, v in changes.items() if v is not None
        }
        return _json(
            self.request(
                "PUT",
                self.url(ep.TABLES, aligned_volume=self.vol(volume)),
                json={"table_name": table, "metadata": metadata},
            )
        )

    def delete_table(self, volume: str, table: str) -> bool:
        url = self.url(ep.TABLE, aligned_volume=self.vol(volume), table_name=table)
        try:
            return bool(_json(self.send_once("DELETE", url)))
        except _Transient:
            pass
        for attempt in range(self.retries):  # the answer was lost: was it deleted?
            self.pause(attempt)
            try:
                return bool(_json(self.send_once("DELETE", url)))
            except TableNotFound:
                return True
            except _Transient:
                continue
        raise RemoteError(
            f"The annotation server did not answer while deleting table "
            f"{table!r}; check with get_tables() whether it is gone."
        )

    def table_name_taken(self, volume: str, table: str) -> bool:
        vol = self.vol(volume)
        if self.is_ours():
            return bool(self.get(self.url(ep.TAKEN, aligned_volume=vol, table_name=table))["taken"])
        return table in self.get_tables(vol)  # a real CAVE lists deleted tables too

    def volumes(self) -> list[str]:
        if self.is_ours():
            return list(self.get(self.url(ep.VOLUMES)))
        try:
            got = self.get(self.server + ep.INFO_VOLUMES, base=self.server)
        except AnnoError:
            return [self.default_volume()]
        return sorted({v["name"] if isinstance(v, dict) else str(v) for v in got})

    def whoami(self) -> dict[str, Any]:
        if self.is_ours():
            return dict(self.get(self.url(ep.WHOAMI)))
        me = self.get(self.server + ep.AUTH_USER_CACHE, base=self.server)
        groups = me.get("groups") or []
        return {
            "id": me.get("id"),
            "name": me.get("name") or me.get("email"),
            "groups": sorted(g["name"] if isinstance(g, dict) else str(g) for g in groups),
            "is_admin": bool(me.get("admin")),
        }

    def list_users(self) -> list[dict[str, Any]]:
        """The users our server knows; a real CAVE does not list them."""
        if not self.is_ours():
            raise NotSupported("A CAVE server does not list its users; ask its admins.")
        return [
            User(
                int(u["id"]), u["name"], frozenset(u.get("groups", ())), bool(u.get("is_admin"))
            ).to_dict()
            for u in self.get(self.url(ep.USERS))
        ]

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        vol = self.vol(volume)
        if self.is_ours():
            return list(self.get(self.url(ep.DETAILS, aligned_volume=vol)))
        out = []
        for name in sorted(self.get_tables(vol)):
            try:
                info = dict(self.get_table_metadata(vol, name))
            except NotFound:
                continue  # listed but deleted: a real CAVE lists deleted tables
            try:
                info["total_count"] = self.get_annotation_count(vol, name)
                info["can_read"] = True
            except AnnoError:
                info["total_count"], info["can_read"] = None, False
            info.update(
                live_count=None,
                can_write=None,
                can_edit_metadata=None,
                can_delete=None,
                owner_name=str(info.get("user_id")),
            )
            out.append(info)
        return out

    # -- rows ----------------------------------------------------------------------------
    def get_annotation_count(self, volume: str, table: str, live_only: bool = False) -> int:
        vol = self.vol(volume)
        if live_only and not self.is_ours():
            raise NotSupported(
                "A CAVE annotation server counts every row, deleted ones "
                "included; it cannot count only the live ones."
            )
        params = {"live_only": "true"} if live_only else None
        return int(
            self.get(self.url(ep.COUNT, aligned_volume=vol, table_name=table), params=params)
        )

    def get_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[dict]:
        vol = self.vol(volume)
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)
        rows: list[dict] = []
        for start in range(0, len(ids), 1000):  # keeps the URL short
            part = ids[start : start + 1000]
            rows.extend(self.get(url, params={"annotation_ids": ",".join(map(str, part))}))
        return rows

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        vol = self.vol(volume)
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)
        done: list[int] = []
        for start in range(0, max(len(ids), 1), ep.MAX_ANNOTATIONS):
            part = [int(i) for i in ids[start : start + ep.MAX_ANNOTATIONS]]
            # Deleting twice changes nothing, so a lost answer is simply asked again.
            done.extend(_json(self.request("DELETE", url, json={"annotation_ids": part})))
        return done

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        vol = self.vol(volume)
        if self.is_ours():
            return list(
                self.get(
                    self.url(
                        ep.HISTORY,
                        aligned_volume=vol,
                        table_name=table,
                        annotation_id=int(annotation_id),
                    )
                )
            )
        chain = self.get_annotation(vol, table, [int(annotation_id)])
        while chain[-1].get("superceded_id") is not None:  # CAVE: newer versions only
            chain += self.get_annotation(vol, table, [int(chain[-1]["superceded_id"])])
        return chain

    def query(
        self,
        volume: str,
        table: str,
        *,
        limit: int = 1000,
        offset: int = 0,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """One page of rows as a flat frame (points as _x/_y/_z columns), id order."""
        from anno_core.wire.frames import decode_frame

        vol = self.vol(volume)
        wanted = query_ids(ids)
        if not self.is_ours():
            return self._cave_query(vol, table, limit, offset, include_invalid, filters, wanted)
        body = {
            "limit": int(limit),
            "offset": int(offset),
            "include_invalid": include_invalid,
            "filters": filters or {},
            "ids": wanted,
        }
        got = _json(
            self.request(
                "POST", self.url(ep.QUERY, aligned_volume=vol, table_name=table), json=body
            )
        )
        return decode_frame(got)

    def count_rows(
        self,
        volume: str,
        table: str,
        *,
        include_invalid: bool = False,
        filters: dict[str, Any] | None = None,
        ids: Sequence[int] | None = None,
    ) -> int:
        """How many rows `query` pages through with the same arguments."""
        vol = self.vol(volume)
        wanted = query_ids(ids)
        if not self.is_ours():
            raise NotSupported("This annotation server cannot count the rows that match a filter.")
        body = {"include_invalid": include_invalid, "filters": filters or {}, "ids": wanted}
        return int(
            _json(
                self.request(
                    "POST",
                    self.url(ep.QUERY_COUNT, aligned_volume=vol, table_name=table),
                    json=body,
                )
            )
        )

    def _cave_query(
        self,
        vol: str,
        table: str,
        limit: int,
        offset: int,
        include_invalid: bool,
        filters: dict | None,
        ids: Sequence[int] | None,
    ) -> pd.DataFrame:
        if not ids or filters:
            raise NotSupported(
                "A CAVE annotation server only fetches rows by id; give ids=[...] (browse "
                "whole tables with CAVE's materialization service)."
            )
        rows = self.get_annotation(vol, table, [int(i) for i in ids])
        if not include_invalid:
            rows = [r for r in rows if r.get("valid")]
        flat = []
        for r in sorted(rows, key=lambda r: r["id"]):
            out: dict[str, Any] = {}
            for k, v in r.items():
                if k.endswith("_position") and isinstance(v, list) and len(v) == 3:
                    out.update({f"{k}_{a}": x for a, x in zip("xyz", v, strict=True)})
                else:
                    out[k] = v
            flat.append(out)
        frame = pd.DataFrame(flat).iloc[offset : offset + limit].reset_index(drop=True)
        for c in ("created", "deleted"):
            if c in frame:
                frame[c] = pd.to_datetime(frame[c], errors="coerce")
        return frame

    def upload_result(
        self, volume: str, table: str, upload_key: str
    ) -> list[int] | dict[int, int] | None:
        """Not asked over HTTP: a server stores an upload key's batches once, but does not
        say what a whole earlier upload stored."""
        raise NotSupported(
            "This annotation server does not say what an earlier upload stored; uploading "
            "again with the same upload key stores nothing twice."
        )

    def point_frame(
        self, volume: str, table: str, include_invalid: bool = False
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        """The point columns (and id) of a table's rows, for a 3D view."""
        from anno_core.wire.frames import decode_frame

        vol = self.vol(volume)
        if not self.is_ours():
            raise NotSupported(
                "A CAVE annotation server cannot send a whole table; view its points "
                "through CAVE's materialization service."
            )
        got = self.get(
            self.url(ep.POINTS, aligned_volume=vol, table_name=table),
            params={"include_invalid": "true" if include_invalid else "false"},
        )
        meta = got["metadata"]
        return decode_frame(got["frame"]), schema_spec(meta["schema_type"]), meta


def _json(r: requests.Response) -> Any:
    try:
        return r.json()
    except ValueError as exc:
        raise RemoteError(
            f"The annotation server sent something that is not JSON "
            f"(HTTP {r.status_code}): {r.text[:200]!r}."
        ) from exc
