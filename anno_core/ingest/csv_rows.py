"""Where a CSV file's records start and end, its delimiter and header, and its cells.

The fast path finds record bounds and line numbers with numpy and parses with pyarrow; rows
with more or fewer cells than the header, or unusual quoting, take the exact path through
Python's csv module, which names the line.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from anno_core.validation.report import ValidationReport
from anno_core.validation.report import refusal as refuse

DELIMITERS = (",", ";", "\t", "|")


def records(buf: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Start/end byte offsets of every record and its line number (vectorised).

    A newline inside quotes does not end a record: with RFC 4180 quoting (a quote inside a
    quoted field is doubled) a newline is inside quotes exactly when an odd number of quote
    characters comes before it."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    quotes = np.flatnonzero(arr == 34)
    quoted_newlines = False
    if quotes.size:
        inside = (np.searchsorted(quotes, nl) % 2) == 1
        quoted_newlines = bool(inside.any())
        ends_nl = nl[~inside]
    else:
        ends_nl = nl
    starts = np.concatenate(([0], ends_nl + 1))
    ends = np.concatenate((ends_nl, [len(buf)]))
    # line number of a record = 1 + newlines before its first byte
    line_no = np.searchsorted(nl, starts) + 1
    if len(starts) > 1 and starts[-1] >= len(buf):  # the file ends with a newline
        starts, ends, line_no = starts[:-1], ends[:-1], line_no[:-1]
    cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    return starts, ends, line_no, quoted_newlines


def sniff(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> str:
    """The delimiter that splits the first lines into the same number (>1) of cells."""
    keep = np.flatnonzero(ends > starts)[:50]
    sample = [buf[starts[i] : ends[i]].decode("utf-8", errors="replace") for i in keep]
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=d)]
        except csv.Error:  # an unclosed quote: the exact reader reports it later
            counts = [len(r.split(d)) for r in sample[:1]]
        if not counts or counts[0] < 2:
            continue
        same = sum(c == counts[0] for c in counts)
        score = (same, counts[0])
        if score > best_score:
            best, best_score = d, score
    return best


def text_after_quote(buf: bytes, delim: str) -> tuple[int, str] | None:
    """(line, snippet) of the first quoted cell with text after its closing quote, like
    ``"x"y``: readers would silently give ``xy``, so such a file is refused.

    Quotes pair up in order (an odd count is refused before), so every second quote either
    closes a quoted cell or starts a doubled quote ``""``; it must be followed by a quote,
    the delimiter, a line end or the end of the file. A quote inside a cell that did not
    start with one (``5"2``) is read literally and is not this mistake."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    q = np.flatnonzero(arr == 34)
    closing = q[1::2]
    if closing.size == 0:
        return None
    nxt = np.minimum(closing + 1, len(arr) - 1)
    ok = (closing + 1 >= len(arr)) | np.isin(arr[nxt], [34, ord(delim[:1] or ","), 10, 13])
    for k in np.flatnonzero(~ok):  # the few suspects only
        j = 2 * int(k)  # the quote this one pairs with; go back over doubled quotes ""
        while j >= 2 and q[j] - 1 == q[j - 1]:
            j -= 2
        start = int(q[j])
        if start == 0 or arr[start - 1] in (ord(delim[:1] or ","), 10, 13):
            pos = int(closing[k])
            line = int(np.count_nonzero(arr[:pos] == 10)) + 1
            snippet = buf[start : pos + 12].split(b"\n")[0].decode("utf-8", "replace")
            return line, snippet
    return None


def parse_one(text: str, delim: str, line: int) -> list[str]:
    try:
        rows = list(csv.reader([text], delimiter=delim, strict=True))
    except csv.Error as exc:
        raise refuse(
            "bad_header",
            f"The header (line {line}) cannot be read: {exc}; check its quotes.",
            line=int(line),
        ) from exc
    return [c.strip() for c in rows[0]] if rows else []


def unique_names(
    header: list[str], notes: ValidationReport
) -> tuple[list[str], dict[str, list[int]]]:
    names: list[str] = []
    seen: dict[str, list[int]] = {}
    for j, h in enumerate(header, start=1):
        seen.setdefault(h, []).append(j)
    for j, h in enumerate(header, start=1):
        if h == "":
            names.append(f"column {j}")
            notes.add(
                "unnamed_column",
                f"column {j}",
                None,
                None,
                f"column {j} has no name in the header; it is called 'column {j}'",
                np.array([1]),
                severity="warning",
            )
        elif len(seen[h]) > 1 and seen[h][0] != j:
            names.append(f"{h} (column {j})")
        else:
            names.append(h)
    dups = {h: cols for h, cols in seen.items() if h and len(cols) > 1}
    for h, cols in dups.items():
        later = ", ".join(repr(f"{h} (column {j})") for j in cols[1:])
        notes.add(
            "duplicate_header",
            h,
            None,
            None,
            f"columns {', '.join(map(str, cols))} are all called {h!r}; the later ones "
            f"are read as {later}: rename them in the file to say which is which",
            np.array([1]),
            severity="warning",
        )
    return names, dups


def arrow_read(
    buf: bytes, offset: int, columns: list[str], delim: str, quoted_newlines: bool, longest: int
) -> pa.Table:
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    block = max(1 << 20, 4 * longest + 1024)
    table = pacsv.read_csv(
        pa.BufferReader(memoryview(buf)[offset:]),
        read_options=pacsv.ReadOptions(column_names=columns, block_size=block),
        parse_options=pacsv.ParseOptions(
            delimiter=delim,
            quote_char='"',
            double_quote=True,
            newlines_in_values=quoted_newlines,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    if invalid:
        raise ValueError("rows with the wrong number of cells")
    return table.combine_chunks()


def python_read(
    buf: bytes, delim: str, columns: list[str], header: list[str], notes: ValidationReport
) -> tuple[pa.Table, np.ndarray]:
    """The exact path: Python's csv module, for ragged rows and unusual quoting."""
    reader = csv.reader(io.StringIO(buf.decode("utf-8"), newline=""), delimiter=delim, strict=True)
    width = len(columns)
    cells: list[list[str | None]] = [[] for _ in range(width)]
    lines: list[int] = []
    trailing: list[int] = []
    spaces: list[int] = []
    start = 1
    seen_header = False
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue  # blank lines are reported from the line scan
            if not seen_header:
                seen_header = True
                continue
            if not any(c.strip() for c in row) and not (len(row) == width and width > 1):
                spaces.append(line)
                continue
            if len(row) > width and not any(c.strip() for c in row[width:]):
                trailing.append(line)
                row = row[:width]
            if len(row) != width:
                _ragged(line, row, width, header)
            for j, c in enumerate(row):
                cells[j].append(c if c != "" else None)
            lines.append(line)
    except csv.Error as exc:
        raise refuse(
            "bad_quotes",
            f'Line {start} cannot be read: {exc}. A quote (") opens a '
            "field that is never closed; close it or remove the quote.",
            line=start,
        ) from exc
    if spaces:
        notes.add(
            "blank_line",
            "",
            np.ones(len(spaces), bool),
            None,
            "this line has no values (only delimiters or spaces); it was skipped",
            np.array(spaces, dtype=object),
            severity="warning",
        )
    if trailing:
        notes.add(
            "trailing_delimiter",
            "",
            np.ones(len(trailing), bool),
            None,
            "this line ends with more delimiters than the header has columns; the empty "
            "cells after the last column were ignored",
            np.array(trailing, dtype=object),
            severity="warning",
        )
    table = pa.table(
        {c: pa.array(v, type=pa.string()) for c, v in zip(columns, cells, strict=True)}
    )
    return table, np.array(lines, dtype=np.int64)


def _ragged(line: int, row: list[str], width: int, header: list[str]) -> None:
    if len(row) > width:
        extra = next(c for c in row[width:] if c.strip())
        raise refuse(
            "ragged_row",
            f"Line {line} has {len(row)} cells but the header has "
            f"{width} columns ({header_names(header)}): the value {extra!r} has no column. "
            "Quote values that contain the delimiter, or add the missing header.",
            line=line,
            value=extra,
        )
    raise refuse(
        "ragged_row",
        f"Line {line} has {len(row)} cells but the header has {width} "
        f"columns ({header_names(header)}); nothing is filled in for you: add the missing "
        "cells (empty ones are fine: just the delimiters).",
        line=line,
        value=",".join(row),
    )


def drop_empty_rows(
    table: pa.Table, lines: np.ndarray, notes: ValidationReport
) -> tuple[pa.Table, np.ndarray]:
    """Rows with only delimiters (',,,,' left by a spreadsheet) are skipped, with a warning."""
    if table.num_columns == 0:
        return table, lines
    empty = np.ones(table.num_rows, dtype=bool)
    for col in table.columns:
        if col.null_count == 0:
            return table, lines
        empty &= col.is_null().to_numpy(zero_copy_only=False)
    if not empty.any():
        return table, lines
    notes.add(
        "empty_row",
        "",
        np.ones(int(empty.sum()), bool),
        None,
        "this line has only delimiters and no values; it was skipped",
        lines[empty].astype(object),
        severity="warning",
    )
    keep = np.flatnonzero(~empty)
    return table.take(pa.array(keep)), lines[keep]


def header_names(header: list[str]) -> str:
    shown = ", ".join(repr(h) for h in header[:8])
    return shown + (f" and {len(header) - 8} more" if len(header) > 8 else "")
