"""Remote uploads: posts and updates in batches of at most 10,000 rows, never stored twice.

To our server a batch goes as a columnar frame (`server_wire`) with an ``Idempotency-Key``
derived from the upload key and the batch's rows: the server stores a key's batch at most
once, and before re-sending a batch whose answer was lost the backend asks whether that key
was stored. Calling again with the same ``upload_key`` resumes an interrupted upload: stored
batches return their ids without being written again.

A real CAVE server has no such key, so the check is the table's row count, which only ever
grows (rows are never removed): it is read before each batch is sent, and after a lost answer
the batch is re-sent only if the count did not move. If it moved, the batch may have been
stored, and the upload stops with a sentence saying so rather than risk a duplicate. An
update needs no count: re-reading the old rows shows which were already superseded, and only
the others are sent again.

Several batches mean several transactions, so a bad row must not be found half-way: the whole
frame is validated on this side first (the server validates every batch again).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from anno_core.backend import update_ids
from anno_core.common import Progress
from anno_core.errors import AnnoError, InvalidArgument, RemoteError
from anno_core.remote.http import lines_index
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import (
    Validated,
    ValidationReport,
    records_to_frame,
    validate_frame,
)
from anno_core.wire import endpoints as ep
from anno_core.wire.frames import MAGIC, PACKED_TYPE, dumps, pack


def spans(n: int, size: int) -> list[tuple[int, int]]:
    """Batch bounds [(start, stop)], one empty batch for no rows (the server still answers)."""
    return [(a, min(a + size, n)) for a in range(0, max(n, 1), size)]


class RemoteUploads:
    """The writing half of RemoteBackend (mixed in; uses its HTTP helpers)."""

    batch_size: int = ep.MAX_ANNOTATIONS
    retries: int

    # -- the Backend methods -------------------------------------------------------------
    def post_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> list[int]:
        vol = self.vol(volume)  # type: ignore[attr-defined]
        spec = self.spec_of(vol, table)  # type: ignore[attr-defined]
        frame = records_to_frame(spec, records)
        return self.insert_frame(
            vol,
            table,
            frame,
            line_label="annotation",
            allow_position_strings=False,
            upload_key=upload_key,
        )

    def update_annotation(
        self, volume: str, table: str, records: Sequence[dict], *, upload_key: str | None = None
    ) -> dict[int, int]:
        vol = self.vol(volume)  # type: ignore[attr-defined]
        records = list(records)
        update_ids(records)  # refused here, as the engine refuses, before any batch is sent
        url = self.url(ep.ANNOTATIONS, aligned_volume=vol, table_name=table)  # type: ignore
        ours = self.is_ours()  # type: ignore[attr-defined]
        key = upload_key or uuid.uuid4().hex
        mapping: dict[int, int] = {}
        for a, b in spans(len(records), self.batch_size):
            try:
                if ours:
                    got = self._send_ours(
                        "PUT",
                        url,
                        dumps({"annotations": records[a:b]}),
                        vol,
                        table,
                        f"{key}:{a}-{b}",
                        "update",
                        None,
                    )
                else:
                    got = self._cave_update(url, records[a:b], vol, table)
            except AnnoError as exc:
                raise _partial(exc, a, len(records), list(mapping.values()), key) from exc
            mapping.update({int(k): int(v) for k, v in got.items()})
        return mapping

    def _begin(
        self, volume: str, table: str, frame: pd.DataFrame, lines: Sequence[int] | None
    ) -> tuple:
        """What both upload kinds start from: (volume, schema spec, frame with a fresh
        index, row count, line numbers, whether the server is ours)."""
        vol = self.vol(volume)  # type: ignore[attr-defined]
        spec = self.spec_of(vol, table)  # type: ignore[attr-defined]
        frame = frame.reset_index(drop=True)
        n = len(frame)
        return vol, spec, frame, n, _lines(lines, n), self.is_ours()  # type: ignore

    def insert_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        line_label: str = "line",
        allow_position_strings: bool = True,
        progress: Progress | None = None,
        upload_key: str | None = None,
        prior: ValidationReport | None = None,
    ) -> list[int]:
        """Store a flat frame as new rows in batches; returns the ids in row order."""
        vol, spec, frame, n, line_arr, ours = self._begin(volume, table, frame, lines)
        checked = None
        if not ours or n > self.batch_size or prior is not None:
            checked = validate_frame(
                spec,
                frame,
                lines=line_arr,
                line_label=line_label,
                allow_position_strings=allow_position_strings,
            )
            if prior is not None:
                checked.report.merge(prior)
            checked.report.raise_if_failed()
        key = upload_key or uuid.uuid4().hex
        url = self.url(
            ep.FRAME if ours else ep.ANNOTATIONS,
            aligned_volume=vol,  # type: ignore
            table_name=table,
        )
        ids: list[int] = []
        if ours:

            def body(a: int, b: int) -> bytes:
                return pack(
                    {
                        "lines": _wire_lines(lines, line_arr, a, b),
                        "line_label": line_label,
                        "allow_position_strings": allow_position_strings,
                    },
                    frame.iloc[a:b],
                )

            for (a, b), data in _prepared(spans(n, self.batch_size), body):
                try:
                    got = self._send_ours(
                        "POST",
                        url,
                        data,
                        vol,
                        table,
                        f"{key}:{a}-{b}",
                        "insert",
                        _rows(line_arr, a, b),
                    )
                except AnnoError as exc:
                    raise _partial(exc, a, n, ids, key) from exc
                ids.extend(int(i) for i in got)
                if progress:
                    progress(b, n)
            return ids
        assert checked is not None
        records = records_from_checked(spec, checked)
        for a, b in spans(n, self.batch_size):
            try:
                got = self._cave_post(url, records[a:b], vol, table)
            except AnnoError as exc:
                raise _partial(exc, a, n, ids, key) from exc
            ids.extend(int(i) for i in got)
            if progress:
                progress(b, n)
        return ids

    def update_frame(
        self,
        volume: str,
        table: str,
        frame: pd.DataFrame,
        *,
        lines: Sequence[int] | None = None,
        progress: Progress | None = None,
        upload_key: str | None = None,
    ) -> dict[int, int]:
        """Update the rows named by the frame's ``id`` column, in batches; {old: new}."""
        vol, spec, frame, n, line_arr, ours = self._begin(volume, table, frame, lines)
        records = None
        if not ours or n > self.batch_size:
            checked = validate_frame(spec, frame, update=True, lines=line_arr)
            checked.report.raise_if_failed()
            if not ours:
                records = records_from_checked(spec, checked)
        key = upload_key or uuid.uuid4().hex
        url = self.url(
            ep.FRAME if ours else ep.ANNOTATIONS,
            aligned_volume=vol,  # type: ignore
            table_name=table,
        )
        mapping: dict[int, int] = {}

        def body(a: int, b: int) -> bytes:
            return pack({"lines": _wire_lines(lines, line_arr, a, b)}, frame.iloc[a:b])

        batches = (
            _prepared(spans(n, self.batch_size), body)
            if ours
            else (((a, b), None) for a, b in spans(n, self.batch_size))
        )
        for (a, b), data in batches:
            try:
                if ours:
                    got = self._send_ours(
                        "PUT",
                        url,
                        data,
                        vol,
                        table,
                        f"{key}:{a}-{b}",
                        "update",
                        _rows(line_arr, a, b),
                    )
                else:
                    assert records is not None
                    got = self._cave_update(url, records[a:b], vol, table)
            except AnnoError as exc:
                raise _partial(exc, a, n, list(mapping.values()), key) from exc
            mapping.update({int(k): int(v) for k, v in got.items()})
            if progress:
                progress(b, n)
        return mapping

    # -- one batch to our server ---------------------------------------------------------
    def _send_ours(
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
        from anno_core.remote.backend import _json, _Transient

        packed = data[:4] == MAGIC
        headers = {
            ep.IDEMPOTENCY_HEADER: key,
            "Content-Type": PACKED_TYPE if packed else "application/json",
        }
        attempt = 0
        while True:
            try:
                return _json(
                    self.send_once(
                        method,
                        url,
                        data=data,  # type: ignore
                        headers=headers,
                        row_of_line=row_of_line,
                    )
                )
            except _Transient as exc:
                if attempt >= self.retries:
                    raise RemoteError(
                        f"The annotation server did not answer after {attempt + 1} tries "
                        f"({exc}); nothing of this batch is stored twice, so call again "
                        "with the same upload key once the server is back."
                    ) from exc
                self.pause(attempt)  # type: ignore[attr-defined]
                attempt += 1
            # The answer was lost: the batch may be stored. Ask before sending it again.
            status_url = self.url(
                ep.UPLOAD,
                aligned_volume=vol,
                table_name=table,  # type: ignore
                key=key,
            )
            try:
                r = self.send_once("GET", status_url, params={"op": op})  # type: ignore
            except _Transient:
                continue  # still down; the re-send carries the key, so it is safe anyway
            status = _json(r)
            if status.get("stored"):
                return status["result"]

    # -- one batch to a real CAVE server -------------------------------------------------
    def _count(self, vol: str, table: str) -> int:
        return self.get_annotation_count(vol, table)  # type: ignore[attr-defined]

    def _cave_post(self, url: str, records: list[dict], vol: str, table: str) -> list[int]:
        from anno_core.remote.backend import _json, _Transient

        data = dumps({"annotations": records})
        headers = {"Content-Type": "application/json"}
        before = self._count(vol, table)
        for attempt in range(self.retries + 1):
            try:
                return _json(self.send_once("POST", url, data=data, headers=headers))  # type: ignore
            except _Transient as exc:
                if attempt >= self.retries:
                    raise RemoteError(
                        f"The annotation server did not answer after {attempt + 1} tries ({exc})."
                    ) from exc
                self.pause(attempt)  # type: ignore[attr-defined]
            now = self._count(vol, table)
            if now != before:
                raise RemoteError(
                    f"The server's answer to a batch of {len(records)} rows was lost and "
                    f"table {table!r} grew from {before} to {now} rows meanwhile, so the batch "
                    "may have been stored; it was not sent again, to never store a row twice. "
                    "Check the table before uploading the rest."
                )
        raise RemoteError("The annotation server did not answer.")  # pragma: no cover

    def _cave_update(self, url: str, records: list[dict], vol: str, table: str) -> dict[str, int]:
        from anno_core.remote.backend import _json, _Transient

        headers = {"Content-Type": "application/json"}
        done: dict[str, int] = {}
        todo = list(records)
        for attempt in range(self.retries + 1):
            try:
                got = _json(
                    self.send_once(
                        "PUT",
                        url,
                        data=dumps({"annotations": todo}),  # type: ignore
                        headers=headers,
                    )
                )
                return {**done, **{str(k): int(v) for k, v in got.items()}}
            except _Transient as exc:
                if attempt >= self.retries:
                    raise RemoteError(
                        f"The annotation server did not answer after {attempt + 1} tries ({exc})."
                    ) from exc
                self.pause(attempt)  # type: ignore[attr-defined]
            # Which old rows did the lost request already supersede? Send only the others.
            old = [int(r["id"]) for r in todo]
            rows = self.get_annotation(vol, table, old)  # type: ignore[attr-defined]
            newer = {int(r["id"]): r.get("superceded_id") for r in rows}
            done.update({str(i): int(newer[i]) for i in old if newer.get(i) is not None})
            todo = [r for r in todo if newer.get(int(r["id"])) is None]
            if not todo:
                return done
        raise RemoteError("The annotation server did not answer.")  # pragma: no cover


def _prepared(
    bounds: list[tuple[int, int]], make: Callable[[int, int], bytes]
) -> Iterator[tuple[tuple[int, int], bytes]]:
    """Each batch's body, the next one encoded on a helper thread while this one is sent
    (the server's answer is awaited with the GIL released, so the two overlap)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="anno-encode") as pool:
        ahead = pool.submit(make, *bounds[0])
        for i, (a, b) in enumerate(bounds):
            data = ahead.result()
            if i + 1 < len(bounds):
                ahead = pool.submit(make, *bounds[i + 1])
            yield (a, b), data


def _wire_lines(given: Sequence[int] | None, line_arr: np.ndarray, a: int, b: int) -> Any:
    """A batch's line numbers: a list, or just the first one when they are 1, 2, 3..."""
    return {"first": a + 1} if given is None else line_arr[a:b].tolist()


def _rows(line_arr: np.ndarray, a: int, b: int) -> Callable[[], dict]:
    """Line -> row of one batch, worked out only if the server refuses the batch."""
    return lambda: lines_index(line_arr[a:b], a)


def _lines(lines: Sequence[int] | None, n: int) -> np.ndarray:
    if lines is None:
        return np.arange(1, n + 1)
    arr = np.asarray(lines)
    if len(arr) != n:
        raise InvalidArgument(f"{len(arr)} line numbers were given for {n} rows.")
    return arr


def _partial(exc: AnnoError, done: int, n: int, ids: list[int], key: str) -> AnnoError:
    """The error, saying what was stored before it (so nothing is lost or stored twice)."""
    if done == 0:
        exc.details.setdefault("upload_key", key)
        return exc
    span = f" (ids {min(ids)} to {max(ids)})" if ids else ""
    message = (
        f"{exc.message} Rows 1 to {done} of {n} were stored before this{span}; the "
        f"rest was not. Call again with upload_key={key!r} to send the rest without "
        "storing the first rows twice."
    )
    return type(exc)(
        message, **{**exc.details, "stored_rows": done, "stored_ids": ids, "upload_key": key}
    )


def _cells(values: Any) -> list:
    if isinstance(values, pd.api.extensions.ExtensionArray | pd.Series):
        return values.to_numpy(dtype=object, na_value=None).tolist()
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return np.where(np.isnan(arr), None, arr.astype(object)).tolist()
    return arr.tolist()


def records_from_checked(spec: SchemaSpec, checked: Validated) -> list[dict]:
    """Nested records (CAVE's form) from validated columns; empty cells are left out."""
    n = checked.report.rows
    records: list[dict] = [{} for _ in range(n)]
    for f in spec.data_fields:
        if f.kind == "user" or any(c not in checked.columns for c in f.storage_columns):
            continue
        if f.kind == "point":
            xyz = np.column_stack(
                [np.asarray(checked.columns[c], dtype=float) for c in f.storage_columns]
            )
            present = ~np.isnan(xyz).all(axis=1)
            cells = [row if ok else None for row, ok in zip(xyz.tolist(), present, strict=True)]
        else:
            cells = _cells(checked.columns[f.column])
        for rec, value in zip(records, cells, strict=True):
            if value is None:
                continue
            cur = rec
            for part in f.path[:-1]:
                cur = cur.setdefault(part, {})
            cur[f.path[-1]] = value
    if checked.ids is not None:
        for rec, i in zip(records, _cells(checked.ids), strict=True):
            if i is not None:
                rec["id"] = int(i)
    return records
