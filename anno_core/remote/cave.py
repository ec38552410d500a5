"""A real CAVE's dialect: only CAVE's own routes, no idempotency keys, errors wrapped as 500.

A batch of new rows is never sent twice: the table's row count (which only grows, rows are
never removed) is read before the batch goes, and after a lost answer the batch is sent
again only if the count did not move. If it moved, the batch may have been stored, so the
upload stops with an error naming those rows (``details["maybe_stored_lines"]``) rather than
risk a duplicate. An update needs no count: re-reading the old rows shows which were
already superseded, and only the others are sent again.

What a CAVE annotation engine cannot do (page rows, count a filtered view, send a whole
table's points, list users) is refused with one sentence naming the CAVE service that can.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

import pandas as pd

from anno_core.errors import AnnoError, NotFound, NotSupported, RemoteError
from anno_core.remote.protocol import CaveProtocol
from anno_core.remote.transport import Answered, Resend, json_of
from anno_core.remote.uploads import Progress, Upload, checked_here, records_from_checked
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import ValidationReport, validate_frame
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import dumps

_JSON = {"Content-Type": "application/json"}
_NO_TIME_TRAVEL = (
    "A CAVE annotation server only has the rows as they are now; read a past moment with "
    "CAVE's materialization service (caveclient's client.materialize.query_table)."
)
_NO_VERSIONS = (
    "A CAVE annotation server has no versions; CAVE's materialization service has its own "
    "(caveclient's client.materialize.get_versions)."
)
_NO_EXPORT = (
    "A CAVE annotation server cannot send a whole table; export it with CAVE's "
    "materialization service (caveclient's client.materialize.query_table) instead."
)
_NO_NEUROGLANCER = (
    "A CAVE server does not serve its tables as Neuroglancer sources from its annotation "
    "service; open the table from CAVE's own pages (or its materialization service), or "
    "copy it into an anno_core table first."
)


class RealCave(CaveProtocol):
    """A CAVE deployment's annotation engine (it does not answer our version route)."""

    # -- reads, CAVE's way -----------------------------------------------------------------
    def get_annotation_count(self, vol: str, table: str, live_only: bool = False) -> int:
        if live_only:
            raise NotSupported(
                "A CAVE annotation server counts every row, deleted ones "
                "included; it cannot count only the live ones."
            )
        return super().get_annotation_count(vol, table)

    def table_name_taken(self, vol: str, table: str) -> bool:
        return table in self.get_tables(vol)  # a real CAVE lists deleted tables too

    def volumes(self) -> list[str] | None:
        try:
            got = self.t.get(self.info + ep.INFO_VOLUMES)
        except AnnoError:
            return None  # the info service is not ours to read
        return sorted({v["name"] if isinstance(v, dict) else str(v) for v in got})

    def whoami(self) -> dict[str, Any]:
        me = self.t.get(self.info + ep.AUTH_USER_CACHE)
        groups = me.get("groups") or []
        return {
            "id": me.get("id"),
            "name": me.get("name") or me.get("email"),
            "groups": sorted(g["name"] if isinstance(g, dict) else str(g) for g in groups),
            "is_admin": bool(me.get("admin")),
        }

    def list_users(self) -> list[dict[str, Any]]:
        raise NotSupported("A CAVE server does not list its users; ask its admins.")

    def table_details(self, vol: str) -> list[dict[str, Any]]:
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

    def activity(self, vol: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotSupported(
            "A CAVE server does not show its audit log; ask its admins who changed what."
        )

    def neuroglancer_source(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        ttl: int,
        timestamp: datetime | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        raise NotSupported(_NO_NEUROGLANCER)

    def neuroglancer_info(
        self,
        vol: str,
        table: str,
        filters: dict[str, Any] | None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        raise NotSupported(_NO_NEUROGLANCER)

    def volume_sources(self, vol: str) -> dict[str, str | None]:
        return {"image_source": None, "segmentation_source": None}  # CAVE keeps its own

    def set_volume_sources(
        self, vol: str, image_source: str | None, segmentation_source: str | None
    ) -> dict[str, str | None]:
        raise NotSupported(
            "A CAVE server keeps a datastack's image and segmentation in its info service; "
            "ask its admins to change them there."
        )

    def history(self, vol: str, table: str, annotation_id: int) -> list[dict]:
        chain = self.get_annotation(vol, table, [int(annotation_id)])
        while chain[-1].get("superceded_id") is not None:  # CAVE: newer versions only
            chain += self.get_annotation(vol, table, [int(chain[-1]["superceded_id"])])
        return chain

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
        if timestamp is not None:
            raise NotSupported(_NO_TIME_TRAVEL)
        if not ids or filters:
            raise NotSupported(
                "A CAVE annotation server only fetches rows by id; give ids=[...] (browse "
                "whole tables with CAVE's materialization service)."
            )
        rows = self.get_annotation(vol, table, [int(i) for i in ids])
        if after_id is not None:
            rows = [r for r in rows if int(r["id"]) > after_id]
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

    def count_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
        timestamp: datetime | None = None,
    ) -> int:
        raise NotSupported("This annotation server cannot count the rows that match a filter.")

    # -- versions and export: CAVE's materialization service does these its own way --------
    def create_version(
        self, vol: str, name: str, description: str, timestamp: datetime | None
    ) -> dict[str, Any]:
        raise NotSupported(_NO_VERSIONS)

    def list_versions(self, vol: str) -> list[dict[str, Any]]:
        raise NotSupported(_NO_VERSIONS)

    def get_version(self, vol: str, version: str | int) -> dict[str, Any]:
        raise NotSupported(_NO_VERSIONS)

    def delete_version(self, vol: str, version: str | int) -> bool:
        raise NotSupported(_NO_VERSIONS)

    def export_table(
        self, vol: str, table: str, sink: BinaryIO, options: Any, progress: Progress
    ) -> dict[str, Any]:
        raise NotSupported(_NO_EXPORT)

    def export_link(self, vol: str, table: str, options: Any) -> dict[str, Any]:
        raise NotSupported(_NO_EXPORT)

    def export_progress(self, vol: str, link_id: str) -> dict[str, Any] | None:
        raise NotSupported(_NO_EXPORT)

    def estimate_rows(
        self,
        vol: str,
        table: str,
        include_invalid: bool,
        filters: dict[str, Any] | None,
        ids: Sequence[int] | None,
    ) -> dict[str, Any]:
        raise NotSupported("This annotation server cannot count the rows that match a filter.")

    def point_frame(
        self, vol: str, table: str, include_invalid: bool, limit: int, columns: list[str]
    ) -> tuple[pd.DataFrame, SchemaSpec, dict[str, Any]]:
        raise NotSupported(
            "A CAVE annotation server cannot send a whole table; view its points "
            "through CAVE's materialization service."
        )

    # -- one batch -------------------------------------------------------------------------
    def post_batch(
        self, vol: str, table: str, records: list[dict], up: Upload, a: int, b: int
    ) -> list[int]:
        """New rows, never sent twice: after a lost answer, re-sent only if the table's row
        count has not moved since before the batch went."""
        count_url = self.url(ep.COUNT, aligned_volume=vol, table_name=table)
        before = int(self.t.get(count_url))
        what = up.describe(a, b)

        def after_lost() -> Resend:
            now = int(self.t.get_once(count_url))
            if now == before:
                return Resend()
            raise RemoteError(
                f"The server's answer to the batch with {what} was lost and table {table!r} "
                f"grew from {before} to {now} rows meanwhile, so {what} may have been stored; "
                "it was not sent again, to never store a row twice. Check the table before "
                "sending those rows again.",
                maybe_stored_lines=up.batch_lines(a, b),
            )

        return self.t.call(
            "POST",
            self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table),
            data=dumps({"annotations": records}),
            headers=_JSON,
            after_lost=after_lost,
            if_no_answer=f"{what} may have been stored; check the table before sending them again.",
            gave_up={"maybe_stored_lines": up.batch_lines(a, b)},
        )

    def put_batch(self, vol: str, table: str, records: list[dict]) -> dict[str, int]:
        """Updates: after a lost answer, the old rows already superseded are done; only the
        others are sent again."""
        done: dict[str, int] = {}
        todo = list(records)

        def after_lost() -> Answered | Resend:
            nonlocal todo
            old = [int(r["id"]) for r in todo]
            rows = self.get_annotation(vol, table, old, once=True)
            newer = {int(r["id"]): r.get("superceded_id") for r in rows}
            done.update({str(i): int(newer[i]) for i in old if newer.get(i) is not None})
            todo = [r for r in todo if newer.get(int(r["id"])) is None]
            if not todo:
                return Answered(dict(done))
            return Resend({"data": dumps({"annotations": todo})})

        return self.t.call(
            "PUT",
            self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table),
            data=dumps({"annotations": todo}),
            headers=_JSON,
            after_lost=after_lost,
            finish=lambda r: {**done, **{str(k): int(v) for k, v in json_of(r).items()}},
        )

    # -- uploads: validated here first, then batch by batch --------------------------------
    def _upload(self, n: int, lines: Any, label: str, key: str | None) -> Upload:
        return Upload.start(
            n, lines, label=label, key=key, resumable=False, batch_size=self.batch_size
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
        checked = checked_here(spec, frame, up, line_label, allow_position_strings, prior)
        records = records_from_checked(spec, checked)
        ids: list[int] = []
        up.send_all(
            ((ab, None) for ab in up.spans()),
            lambda a, b, _: self.post_batch(vol, table, records[a:b], up, a, b),
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
        checked = validate_frame(spec, frame, update=True, lines=up.lines)
        checked.report.raise_if_failed()
        return self._update(vol, table, records_from_checked(spec, checked), up, progress)

    def update_records(
        self, vol: str, table: str, records: list[dict], upload_key: str | None
    ) -> dict[int, int]:
        up = self._upload(len(records), None, "annotation", upload_key)
        return self._update(vol, table, records, up, None)

    def _update(
        self, vol: str, table: str, records: list[dict], up: Upload, progress: Progress
    ) -> dict[int, int]:
        mapping: dict[int, int] = {}
        up.send_all(
            ((ab, None) for ab in up.spans()),
            lambda a, b, _: self.put_batch(vol, table, records[a:b]),
            lambda got: mapping.update({int(k): int(v) for k, v in got.items()}),
            lambda: list(mapping.values()),
            progress,
        )
        return mapping
