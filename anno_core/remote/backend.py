"""The remote backend: the same Backend methods over HTTP, to our server or a real CAVE.

``connect(backend="server", server_address=..., datastack=... or aligned_volume=...,
token=...)`` builds one. Nothing is sent until the first call (no network I/O in the
constructor). With a datastack, the info service names the annotation server
(``local_server``) and the aligned volume, as caveclient does; without one, the server
address is the annotation server and the aligned volume is used as given.

Whether the annotation server is ours or a real CAVE is asked once, on first need, from our
version route (a real CAVE answers 404 there); the answer picks the dialect every call then
goes through (`ours.OurServer` or `cave.RealCave`), and both send every request through one
`transport.Transport`, the only place a request is retried.

One instance is shared by every browser session and upload thread of the dashboard: what
is worked out lazily (the datastack's info, the dialect, the schema of each table) is worked
out once under a lock, and the transport gives each thread its own HTTP session.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import pandas as pd
from packaging.version import InvalidVersion, Version

from anno_core.arguments import (
    check_permission,
    check_resolution,
    update_ids,
)
from anno_core.errors import AnnoError, InvalidArgument, NotSupported, RemoteError
from anno_core.remote.cave import RealCave
from anno_core.remote.curation import RemoteCuration
from anno_core.remote.data_out import RemoteDataOut
from anno_core.remote.extras import RemoteExtras
from anno_core.remote.lazy import Lazy
from anno_core.remote.neuroglancer import RemoteNeuroglancer
from anno_core.remote.ours import OurServer
from anno_core.remote.protocol import CaveProtocol
from anno_core.remote.transport import RetryPolicy, Transport
from anno_core.remote.uploads import Progress
from anno_core.remote.views import RemoteViews
from anno_core.schemas import SchemaSpec
from anno_core.settings import Settings
from anno_core.validation.validator import ValidationReport, records_to_frame
from anno_core.wire import endpoints as ep


class RemoteBackend(RemoteViews, RemoteExtras, RemoteDataOut, RemoteCuration, RemoteNeuroglancer):
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
        self.transport = Transport(
            address, settings.token, policy=RetryPolicy(retries, backoff), timeout=timeout
        )
        self._info: Lazy[dict[str, Any]] = Lazy(self._fetch_datastack_info)
        self._dialect: Lazy[CaveProtocol] = Lazy(self._pick_dialect)
        where = (
            f"datastack {self.datastack}"
            if self.datastack
            else f"aligned volume {settings.aligned_volume}"
        )
        self.label = f"server {self.server}, {where}"

    # -- the retry policy (one, in the transport) ----------------------------------------
    @property
    def retries(self) -> int:
        return self.transport.policy.retries

    @retries.setter
    def retries(self, value: int) -> None:
        self.transport.policy.retries = value

    @property
    def backoff(self) -> float:
        return self.transport.policy.backoff

    @backoff.setter
    def backoff(self, value: float) -> None:
        self.transport.policy.backoff = value

    # -- where and who -----------------------------------------------------------------
    def _fetch_datastack_info(self) -> dict[str, Any]:
        name = urllib.parse.quote(str(self.datastack), safe="")
        info = self.transport.get(self.server + ep.INFO_DATASTACK.format(datastack=name))
        if not isinstance(info, dict) or not info.get("local_server"):
            raise RemoteError(
                f"The info service at {self.server} did not say which "
                f"annotation server serves datastack {self.datastack!r}."
            )
        return info

    @property
    def annotation_server(self) -> str:
        """Base address of the annotation service (the datastack's ``local_server``)."""
        if self.datastack:
            return str(self._info.get()["local_server"]).rstrip("/")
        return self.server

    def default_volume(self) -> str:
        """The aligned volume calls use when they name none."""
        if self._volume_given:
            return self._default_volume
        av = self._info.get().get("aligned_volume")
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
        """The API token (as given, else from caveclient's token files)."""
        return self.transport.token()

    def _our_version(self) -> str | None:
        """Our server's version; None when the server refuses the route (a real CAVE).
        A server that does not answer raises RemoteError, so nothing wrong is remembered."""
        try:
            got = self.transport.get(self.annotation_server + ep.VERSION)
        except RemoteError:
            raise
        except AnnoError:  # 404 on a real CAVE (or its auth layer refusing an unknown route)
            return None
        return got if isinstance(got, str) else None

    def _pick_dialect(self) -> CaveProtocol:
        kind = OurServer if self._our_version() is not None else RealCave
        return kind(self.transport, self.annotation_server, self.server)

    def dialect(self) -> CaveProtocol:
        """How this server is spoken to: `OurServer` or `RealCave` (asked once)."""
        return self._dialect.get()

    def is_ours(self) -> bool:
        """Whether the annotation server is an anno_core server (asked once)."""
        return isinstance(self.dialect(), OurServer)

    def server_version(self) -> Version | None:
        if not self.is_ours():
            return None
        try:
            return Version(str(self._our_version()))
        except InvalidVersion:
            return None

    def url(self, template: str, **parts: Any) -> str:
        return ep.url(self.annotation_server, template, **parts)

    def spec_of(self, volume: str, table: str) -> SchemaSpec:
        """The schema of a table (asked once per table)."""
        return self.dialect().spec_of(self.vol(volume), table)

    # -- tables --------------------------------------------------------------------------
    def get_tables(self, volume: str) -> list[str]:
        return self.dialect().get_tables(self.vol(volume))

    def get_table_metadata(self, volume: str, table: str) -> dict[str, Any]:
        return self.dialect().get_table_metadata(self.vol(volume), table)

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
        return self.dialect().create_table(self.vol(volume), body)

    def update_metadata(self, volume: str, table: str, changes: dict[str, Any]) -> dict:
        metadata = {
            k: (str(v) if k == "user_id" else v) for k, v in changes.items() if v is not None
        }
        return self.dialect().update_metadata(self.vol(volume), table, metadata)

    def delete_table(self, volume: str, table: str) -> bool:
        return self.dialect().delete_table(self.vol(volume), table)

    def table_name_taken(self, volume: str, table: str) -> bool:
        return self.dialect().table_name_taken(self.vol(volume), table)

    def volumes(self) -> list[str]:
        got = self.dialect().volumes()
        return [self.default_volume()] if got is None else got

    def whoami(self) -> dict[str, Any]:
        return self.dialect().whoami()

    def table_details(self, volume: str) -> list[dict[str, Any]]:
        return self.dialect().table_details(self.vol(volume))

    # -- rows ----------------------------------------------------------------------------
    def get_annotation_count(self, volume: str, table: str, live_only: bool = False) -> int:
        return self.dialect().get_annotation_count(self.vol(volume), table, live_only)

    def get_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[dict]:
        return self.dialect().get_annotation(self.vol(volume), table, ids)

    def delete_annotation(self, volume: str, table: str, ids: Sequence[int]) -> list[int]:
        return self.dialect().delete_annotation(self.vol(volume), table, ids)

    def history(self, volume: str, table: str, annotation_id: int) -> list[dict]:
        return self.dialect().history(self.vol(volume), table, annotation_id)

    def list_users(self) -> list[dict[str, Any]]:
        """The users our server knows (to a non-admin: ids and names, groups and is_admin
        None); a real CAVE does not list them (NotSupported)."""
        return self.dialect().list_users()

    def upload_result(
        self, volume: str, table: str, upload_key: str
    ) -> list[int] | dict[int, int] | None:
        """Not asked over HTTP: a server stores an upload key's batches once, but does not
        say what a whole earlier upload stored."""
        raise NotSupported(
            "This annotation server does not say what an earlier upload stored; uploading "
            "again with the same upload key stores nothing twice."
        )

    # -- writes (batches of at most 10,000 rows; see uploads, ours and cave) -------------
    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        frame = records_to_frame(self.spec_of(volume, table), records)
        return self.insert_frame(
            volume,
            table,
            frame,
            line_label="annotation",
            allow_position_strings=False,
            upload_key=upload_key,
        )

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        records = list(records)
        update_ids(records)  # refused here, as the engine refuses, before any batch is sent
        return self.dialect().update_records(self.vol(volume), table, records, upload_key)

    def insert_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        line_label: str = "line",
        allow_position_strings: bool = True,
        progress: Progress = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Store a flat frame as new rows in batches; returns the ids in row order."""
        return self.dialect().insert_frame(
            self.vol(volume),
            table,
            frame,
            lines=lines,
            line_label=line_label,
            allow_position_strings=allow_position_strings,
            progress=progress,
            upload_key=upload_key,
            prior=prior,
        )

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update the rows named by the frame's ``id`` column, in batches; {old: new}."""
        return self.dialect().update_frame(
            self.vol(volume), table, frame, lines=lines, progress=progress, upload_key=upload_key
        )
