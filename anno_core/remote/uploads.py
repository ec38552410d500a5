"""What every remote upload shares: batches of at most 10,000 rows, and errors that say
exactly which rows were stored, which may have been, and which were not.

Several batches mean several requests, so a bad row must not be found half-way: the whole
frame is validated on this side first whenever it goes in more than one batch (the server
validates every batch again). How one batch travels, and what is done when its answer is
lost, depends on the server: `ours.OurServer` (an idempotency key per batch) or
`cave.RealCave` (the table's row count, the old rows of an update).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anno_core.errors import AnnoError, InvalidArgument
from anno_core.remote.refusals import lines_index
from anno_core.schemas import SchemaSpec
from anno_core.validation.validator import Validated, ValidationReport, validate_frame

Progress = Callable[[int, int], None] | None

_PLURAL = {"line": "lines", "annotation": "annotations", "index": "index", "row": "rows"}


def spans(n: int, size: int) -> list[tuple[int, int]]:
    """Batch bounds [(start, stop)], one empty batch for no rows (the server still answers)."""
    return [(a, min(a + size, n)) for a in range(0, max(n, 1), size)]


def batch_key(key: str, start: int) -> str:
    """The key of the batch of an upload that starts at row ``start``. Known by where it
    starts (not where it ends): the same key sent again with another file, of any length,
    meets its first batch on the server and is refused there."""
    return f"{key}:{start}"


def prepared(
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


@dataclass(frozen=True)
class Upload:
    """One call's rows on their way: how many, their line numbers and what a line is called,
    the key naming its batches, and whether calling again with that key resumes it."""

    n: int
    lines: np.ndarray
    lines_given: bool
    label: str
    key: str
    resumable: bool
    batch_size: int

    @classmethod
    def start(
        cls,
        n: int,
        lines: Sequence[Any] | None,
        *,
        label: str,
        key: str | None,
        resumable: bool,
        batch_size: int,
    ) -> Upload:
        if lines is None:
            arr = np.arange(1, n + 1)
        else:
            arr = np.asarray(lines)
            if len(arr) != n:
                raise InvalidArgument(f"{len(arr)} line numbers were given for {n} rows.")
        return cls(n, arr, lines is not None, label, key or uuid.uuid4().hex, resumable, batch_size)

    def spans(self) -> list[tuple[int, int]]:
        return spans(self.n, self.batch_size)

    def batch_key(self, a: int, b: int) -> str:
        return batch_key(self.key, a)

    def wire_lines(self, a: int, b: int) -> Any:
        """A batch's line numbers: a list, or just the first one when they are 1, 2, 3..."""
        return self.lines[a:b].tolist() if self.lines_given else {"first": a + 1}

    def row_of_line(self, a: int, b: int) -> Callable[[], dict]:
        """Line -> row of one batch, worked out only if the server refuses the batch."""
        return lambda: lines_index(self.lines[a:b], a)

    def batch_lines(self, a: int, b: int) -> list[Any]:
        return [x.item() if isinstance(x, np.generic) else x for x in self.lines[a:b]]

    def describe(self, a: int, b: int) -> str:
        """The rows of one batch in the caller's words: "annotations 11 to 20"."""
        words = _PLURAL.get(self.label, self.label)
        got = self.batch_lines(a, b)
        if not got:
            return f"no {words}"
        if len(got) == 1:
            return f"{self.label} {got[0]}"
        ints = all(isinstance(x, int) for x in got)
        if ints and got == list(range(got[0], got[0] + len(got))):
            return f"{words} {got[0]} to {got[-1]}"
        if len(got) <= 5:
            return f"{words} {', '.join(map(str, got))}"
        first, last = got[0], got[-1]
        return f"{len(got)} rows from {self.label} {first} to {self.label} {last} (not all between)"

    def send_all(
        self,
        batches: Iterable[tuple[tuple[int, int], Any]],
        send: Callable[[int, int, Any], Any],
        add: Callable[[Any], None],
        stored_ids: Callable[[], list[int]],
        progress: Progress = None,
    ) -> None:
        """Send the batches in order; an error says what the batches before it stored."""
        it = iter(batches)
        try:
            for (a, b), body in it:
                try:
                    got = send(a, b, body)
                except AnnoError as exc:
                    raise self.partial(exc, a, stored_ids()) from exc
                add(got)
                if progress:
                    progress(b, self.n)
        finally:
            # Close `prepared` here, not in the garbage collector: left to the collector, its
            # pool's shutdown (a thread join) can run inside another thread's start and hang.
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def partial(self, exc: AnnoError, done: int, ids: list[int]) -> AnnoError:
        """The error, saying what was stored before it (so nothing is lost or stored twice)."""
        keyed = {"upload_key": self.key} if self.resumable else {}
        if done == 0:
            for k, v in keyed.items():
                exc.details.setdefault(k, v)
            return exc
        span = f" (ids {min(ids)} to {max(ids)})" if ids else ""
        stored = f"Rows 1 to {done} of {self.n} were stored before this{span}"
        if "maybe_stored_lines" in exc.details:
            rest = "."  # the message already says which rows may have been stored
        elif self.resumable:
            rest = (
                f"; the rest was not. Call again with upload_key={self.key!r} to send the "
                "rest without storing the first rows twice."
            )
        else:
            rest = f"; the rest was not, so send only rows {done + 1} to {self.n} again."
        return type(exc)(
            f"{exc.message} {stored}{rest}",
            **{**exc.details, "stored_rows": done, "stored_ids": ids, **keyed},
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


def checked_here(
    spec: SchemaSpec,
    frame: pd.DataFrame,
    up: Upload,
    line_label: str,
    allow_position_strings: bool,
    prior: ValidationReport | None,
) -> Validated:
    """The frame validated on this side (with an earlier report merged in), or a refusal
    naming every bad line before any batch is sent."""
    checked = validate_frame(
        spec,
        frame,
        lines=up.lines,
        line_label=line_label,
        allow_position_strings=allow_position_strings,
    )
    if prior is not None:
        checked.report.merge(prior)
    checked.report.raise_if_failed()
    return checked
