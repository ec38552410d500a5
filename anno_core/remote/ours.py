"""Our server's dialect: CAVE's protocol plus our routes (columnar frames, queries, keys).

A batch goes as a columnar frame (`wire.frames`) with an ``Idempotency-Key`` derived from
the upload key and the batch's rows: the server stores a key's batch at most once. After a
lost answer the backend asks the batch-status route whether that key was stored, and
re-sends only if it was not. Calling again with the same ``upload_key`` resumes an
interrupted upload: stored batches return their ids without being written again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, BinaryIO

import pandas as pd
import requests

from anno_core.errors import Conflict, NotFound, RemoteError
from anno_core.moments import wire
from anno_core.remote.curation import OurCuration
from anno_core.remote.protocol import CaveProtocol
from anno_core.remote.transport import Answered, Resend
from anno_core.remote.uploads import Progress, Upload, checked_here, prepared
from anno_core.schemas import SchemaSpec, schema_spec
from anno_core.validation.validator import ValidationReport, validate_frame
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import MAGIC, PACKED_TYPE, decode_frame, dumps, pack


class OurServer(OurCuration, CaveProtocol):
    """An anno_core server (it answers our version route)."""

    # -- reads our routes answer -----------------------------------------------------------
    def table_name_taken(self, vol: str, table: str) -> bool:
        got = self.t.get(self.url(ep.TAKEN, aligned_volume=vol, table_name=table))
        return bool(got["taken"])

    def volumes(self) -> list[str] | None:
        return list(self.t.get(self.url(ep.VOLUMES)))

    def whoami(self) -> dict[str, Any]:
        return dict(self.t.get(self.url(ep.WHOAMI)))

    def list_users(self) -> list[dict[str, Any]]:
        # Our server shows a non-admin names only: groups and the admin flag stay None
        # (unknown), never a guessed "no groups, not an admin".
        return [
            {
                "id": int(u["id"]),
                "name": u["name"],
                "groups": sorted(u["groups"]) if "groups" in u else None,
                "is_admin": bool(u["is_admin"]) if "is_admin" in u else None,
            }
            for u in self.t.get(self.url(ep.USERS))
        ]

    def table_details(self, vol: str) -> list[dict[str, Any]]:
        return list(self.t.get(self.url(ep.DETAILS, aligned_volume=vol)))

    def activity(self, vol: str, params: dict[str, Any]) -> dict[str, Any]:
        sent = {k: str(v) for k, v in params.items() if v is not None}
        return dict(self.t.get(self.url(ep.ACTIVITY, aligned_volume=vol), params=sent))

    def history(self, vol: str, table: str, annotation_id: int) -> list[dict]:
        url = self.url(
            ep.HISTORY, aligned_volume=vol, table_name=table, annotation_id=int(annotation_id)
        )
        return list(self.t.get(url))

    def query(
        self,
        vol: str,
        table: str,
        limit: int,
        offset: int,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
        after_id: int | None = None,
    ) -> pd.DataFrame:
        body = {
            "limit": int(limit),
            "offset": int(offset),
            **_view(include_invalid, filters, ids, timestamp),
        }
        if after_id is not None:  # sent only when given: older servers refuse nothing
            body["after_id"] = int(after_id)
        url = self.url(ep.QUERY, aligned_volume=vol, table_name=table)
        got = self.t.call("POST", url, json=body)  # a read: safe to repeat
        frame = decode_frame(got)
        if got.get("notice"):
            frame.attrs["notice"] = got["notice"]
        return frame

    def count_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
    ) -> int:
        url = self.url(ep.QUERY_COUNT, aligned_volume=vol, table_name=table)
        body = _view(include_invalid, filters, ids, timestamp)
        return int(self.t.call("POST", url, json=body))

    def estimate_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
    ) -> dict[str, Any]:
        url = self.url(ep.QUERY_ESTIMATE, aligned_volume=vol, table_name=table)
        return dict(self.t.call("POST", url, json=_view(include_invalid, filters, ids, None)))

    def point_frame(
        self, vol: str, table: str, include_invalid: bool, limit: int, columns: list[str]
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        params: dict[str, Any] = {"include_invalid": "true" if include_invalid else "false"}
        params["limit"] = limit
        if columns:
            params["columns"] = ",".join(columns)
        got = self.t.get(self.url(ep.POINTS, aligned_volume=vol, table_name=table), params=params)
        meta = got["metadata"]
        return decode_frame(got["frame"]), schema_spec(meta["schema_type"]), meta

    # -- versions and export -----------------------------------------------------------------
    def create_version(
        self, vol: str, name: str, description: str, timestamp: datetime | None
    ) -> dict[str, Any]:
        body = {"name": name, "description": description, "timestamp": wire(timestamp)}
        url = self.url(ep.VERSIONS, aligned_volume=vol)

        def after_lost() -> Answered | Resend:
            named = self.url(ep.VERSION_NAMED, aligned_volume=vol, version=name)
            try:
                found = self.t.get_once(named)
            except NotFound:
                return Resend()  # not made: send it again
            if found.get("description") != description:
                raise Conflict(f"Someone else made a version called {name!r} meanwhile.")
            return Answered(found)  # made by the request whose answer was lost

        return dict(self.t.call("POST", url, json=body, after_lost=after_lost))

    def list_versions(self, vol: str) -> list[dict[str, Any]]:
        return list(self.t.get(self.url(ep.VERSIONS, aligned_volume=vol)))

    def get_version(self, vol: str, version: str | int) -> dict[str, Any]:
        return dict(self.t.get(self.url(ep.VERSION_NAMED, aligned_volume=vol, version=version)))

    def delete_version(self, vol: str, version: str | int) -> bool:
        url = self.url(ep.VERSION_NAMED, aligned_volume=vol, version=version)
        return bool(self.t.call("DELETE", url))

    def export_table(
        self, vol: str, table: str, sink: BinaryIO, options: Any, progress: Progress
    ) -> dict[str, Any]:
        """The server writes the file; its bytes are streamed into ``sink`` as they come
        (progress: bytes received, total 0 as it is not known in bytes)."""
        url = self.url(ep.EXPORT, aligned_volume=vol, table_name=table)

        def receive(r: Any) -> dict[str, Any]:
            summary = json.loads(r.headers.get(ep.EXPORT_HEADER) or "{}")
            done = 0
            try:
                for block in r.iter_content(1 << 20):
                    sink.write(block)
                    done += len(block)
                    if progress:
                        progress(done, 0)
            except requests.RequestException as exc:
                raise RemoteError(
                    f"The export of {table!r} broke off after {done:,} bytes; the file is "
                    "incomplete, so export again."
                ) from exc
            finally:
                r.close()
            return summary

        # Nothing reaches the sink before the server answers, so an answer lost before that
        # is simply asked again; once bytes flow, a break is an error (never a retry).
        return dict(self.t.call("POST", url, json=options.to_wire(), stream=True, finish=receive))

    def export_link(self, vol: str, table: str, options: Any) -> dict[str, Any]:
        url = self.url(ep.EXPORT_LINK, aligned_volume=vol, table_name=table)
        got = dict(self.t.call("POST", url, json=options.to_wire()))
        got["url"] = self.base.rstrip("/") + got["url"]  # the browser goes to the server
        return got

    def export_progress(self, vol: str, link_id: str) -> dict[str, Any] | None:
        got = self.t.get(self.url(ep.EXPORT_PROGRESS, aligned_volume=vol, link_id=link_id))
        return got or None

    # -- Neuroglancer ----------------------------------------------------------------------
    def neuroglancer_source(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        ttl: int,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        url = self.url(ep.NG_GRANT, aligned_volume=vol, table_name=table)
        body = {"filters": filters or {}, "ttl": int(ttl)}
        if timestamp is not None:  # absent for the live rows: servers before this read the same
            body.update(timestamp=wire(timestamp), version=version)
        got = dict(self.t.call("POST", url, json=body))
        got["server"] = self.base  # the viewer reads the source where this client does
        return got

    def neuroglancer_info(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        url = self.url(ep.NG_INFO, aligned_volume=vol, table_name=table)
        body: dict[str, Any] = {"filters": filters or {}}
        if timestamp is not None:
            body["timestamp"] = wire(timestamp)
        return dict(self.t.call("POST", url, json=body))

    def volume_sources(self, vol: str) -> dict[str, str | None]:
        return dict(self.t.get(self.url(ep.VOLUME_LAYERS, aligned_volume=vol)))

    def set_volume_sources(
        self, vol: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        body = {"image_source": image_source, "segmentation_source": segmentation_source}
        url = self.url(ep.VOLUME_LAYERS, aligned_volume=vol)
        return dict(self.t.call("PUT", url, json=body))  # the same values again: safe

    # -- uploads -----------------------------------------------------------------------------
    def send_batch(
        self,
        method: str,
        url: str,
        data: bytes,
        vol: str,
        table: str,
        key: str,
        op: str,
        row_of_line: Callable[[], dict] | None,
    ) -> Any:
        """One batch with its idempotency key; after a lost answer, ask whether it was
        stored (and take its stored answer) before sending it again."""
        headers = {
            ep.IDEMPOTENCY_HEADER: key,
            "Content-Type": PACKED_TYPE if data[:4] == MAGIC else "application/json",
        }
        status_url = self.url(ep.UPLOAD, aligned_volume=vol, table_name=table, key=key)

        def after_lost() -> Answered | Resend:
            status = self.t.get_once(status_url, params={"op": op})
            return Answered(status["result"]) if status.get("stored") else Resend()

        return self.t.call(
            method,
            url,
            data=data,
            headers=headers,
            row_of_line=row_of_line,
            after_lost=after_lost,
            if_no_answer="nothing of this batch is stored twice, so call again with the same "
            "upload key once the server is back.",
        )

    def _upload(self, n: int, lines: Any, label: str, key: str | None) -> Upload:
        return Upload.start(
            n, lines, label=label, key=key, resumable=True, batch_size=self.batch_size
        )

    def insert_frame(
        self,
        vol: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None,
        line_label: str,
        allow_position_strings: bool,
        progress: Progress,
        upload_key: str | None,
        prior: ValidationReport | None,
    ) -> list[int]:
        spec = self.spec_of(vol, table)
        frame = frame.reset_index(drop=True)
        up = self._upload(len(frame), lines, line_label, upload_key)
        if up.n > self.batch_size or prior is not None:  # one batch: the server checks it all
            checked_here(spec, frame, up, line_label, allow_position_strings, prior)
        url = self.url(ep.FRAME, aligned_volume=vol, table_name=table)

        def body(a: int, b: int) -> bytes:
            header = {
                "lines": up.wire_lines(a, b),
                "line_label": line_label,
                "allow_position_strings": allow_position_strings,
            }
            return pack(header, frame.iloc[a:b])

        def send(a: int, b: int, data: bytes) -> Any:
            key = up.batch_key(a, b)
            return self.send_batch(
                "POST", url, data, vol, table, key, "insert", up.row_of_line(a, b)
            )

        ids: list[int] = []
        up.send_all(
            prepared(up.spans(), body),
            send,
            lambda got: ids.extend(int(i) for i in got),
            lambda: ids,
            progress,
        )
        return ids

    def update_frame(
        self,
        vol: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None,
        progress: Progress,
        upload_key: str | None,
    ) -> dict[int, int]:
        spec = self.spec_of(vol, table)
        frame = frame.reset_index(drop=True)
        up = self._upload(len(frame), lines, "line", upload_key)
        if up.n > self.batch_size:
            validate_frame(spec, frame, update=True, lines=up.lines).report.raise_if_failed()
        url = self.url(ep.FRAME, aligned_volume=vol, table_name=table)

        def body(a: int, b: int) -> bytes:
            return pack({"lines": up.wire_lines(a, b)}, frame.iloc[a:b])

        def send(a: int, b: int, data: bytes) -> Any:
            key = up.batch_key(a, b)
            return self.send_batch(
                "PUT", url, data, vol, table, key, "update", up.row_of_line(a, b)
            )

        mapping: dict[int, int] = {}
        up.send_all(
            prepared(up.spans(), body),
            send,
            lambda got: mapping.update({int(k): int(v) for k, v in got.items()}),
            lambda: list(mapping.values()),
            progress,
        )
        return mapping

    def update_records(
        self, vol: str, table: str, records: list[dict], upload_key: str | None
    ) -> dict[int, int]:
        up = self._upload(len(records), None, "annotation", upload_key)
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)

        def send(a: int, b: int, _: Any) -> Any:
            data = dumps({"annotations": records[a:b]})
            return self.send_batch("PUT", url, data, vol, table, up.batch_key(a, b), "update", None)

        mapping: dict[int, int] = {}
        up.send_all(
            ((ab, None) for ab in up.spans()),
            send,
            lambda got: mapping.update({int(k): int(v) for k, v in got.items()}),
            lambda: list(mapping.values()),
        )
        return mapping


def _view(
    include_invalid: bool,
    filters: dict[str, Any] | None,
    ids: Sequence[int] | None,
    timestamp: datetime | None,
) -> dict[str, Any]:
    """The rows a query (or its count) covers, as our query routes take them."""
    return {
        "include_invalid": include_invalid,
        "filters": filters or {},
        "ids": None if ids is None else [int(i) for i in ids],
        "timestamp": wire(timestamp),
    }
