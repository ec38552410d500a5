"""Reading the CSV files spreadsheets export, or refusing them with one plain sentence.

`read_csv(source)` takes a path, bytes or a binary file object and returns a `CsvData`:
every cell as text (an empty cell is null; nothing is converted yet, so ``00123`` stays
``00123`` and ``NA`` stays ``NA``), the spreadsheet line number of every row (the header is
line 1; blank lines and quoted line breaks are counted as a spreadsheet counts them), the
encoding and delimiter found, and warnings about anything skipped. Types are decided later,
per schema field, by `anno_core.ingest.frames`.

What it reads: UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252/Latin-1 (detected:
accepted when the text reads as Western European, refused when it looks like another code
page, never turned into mojibake), CRLF/LF/CR line ends, ``,`` ``;`` tab or ``|`` delimiters
(detected), quoted fields with delimiters, quotes and line breaks inside, any number of
columns. What it refuses, with a sentence: empty files, header-only files, binary files
(Excel workbooks, zip, PDF, images) renamed ``.csv``, rows with more or fewer cells than the
header, unclosed quotes. The fast path parses with pyarrow (multi-threaded) and finds line
numbers with numpy; odd files take an exact, slower path through Python's csv module.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from anno_core.errors import ValidationFailed
from anno_core.validation.report import ValidationReport

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
MAGIC = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "a SQLite database"),
    (b"PAR1", "a Parquet file"),
)
# Read as Windows-1252, text in another code page shows these signs of mojibake: runs of
# accented letters ("Ïðèâåò" is Russian) or symbols wedged between letters ("Za¿ó³æ").
_MOJIBAKE = re.compile(r"[À-ÿ]{3,}|(?<=[A-Za-zÀ-ÿ])[¹²³¿¼½¾¦¨´¸¤¬œŸšžŠŽŒ¥ª](?=[A-Za-zÀ-ÿ])")


@dataclass
class CsvData:
    """A CSV file read as text: cells, header, line numbers, encoding, delimiter, notes."""

    table: pa.Table
    header: list[str]
    lines: np.ndarray
    encoding: str
    delimiter: str
    name: str = "the file"
    notes: ValidationReport = field(default_factory=ValidationReport)
    duplicates: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return self.table.num_rows

    @property
    def columns(self) -> list[str]:
        """Column names as used in the frame (unique; duplicates and blanks renamed)."""
        return list(self.table.column_names)

    def text(self, column: str) -> pd.Series:
        """One column as Python strings, None for an empty cell."""
        return pd.Series(self.table.column(column).to_pandas(), dtype=object)

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The cells as an object DataFrame of strings (None for empty cells)."""
        names = self.columns if columns is None else columns
        return pd.DataFrame({c: self.text(c) for c in names}, columns=names)

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` rows, indexed by their line numbers (for a preview)."""
        part = self.table.slice(0, n).to_pandas()
        part.index = pd.Index(self.lines[:n], name="line")
        return part

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def refuse(
    kind: str, message: str, line: int | None = None, column: str = "", value: str = ""
) -> ValidationFailed:
    """A ValidationFailed for the whole file, carrying a one-problem report."""
    rep = ValidationReport(rows=0)
    lines = np.array([line], dtype=object)
    if line is None:
        rep.add(kind, column, None, None, message, lines)
    else:
        rep.add(kind, column, np.array([True]), pd.Series([value]), message, lines)
    return ValidationFailed(message, report=rep)


def read_csv(
    source: str | Path | bytes | BinaryIO,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
) -> CsvData:
    """Read a CSV file (path, bytes or binary file) as text; see the module docstring."""
    raw, label = _raw_bytes(source, name)
    notes = ValidationReport(rows=0)
    text_bytes, enc = _decode(raw, label, encoding, notes)
    if b"\n" not in text_bytes and b"\r" in text_bytes:
        text_bytes = text_bytes.replace(b"\r", b"\n")  # classic Mac line ends
    if not text_bytes.strip(b" \t\r\n,;|"):
        raise refuse(
            "empty_file",
            f"{label} is empty: there is no header and no data. "
            "Export the sheet again with its header row and at least one row.",
        )
    starts, ends, line_no, quoted_newlines = _records(text_bytes)
    quotes = text_bytes.count(b'"')
    if quotes % 2:  # pairs close in order, so the last quote is the one never closed
        line = text_bytes[: text_bytes.rindex(b'"')].count(b"\n") + 1
        raise refuse(
            "bad_quotes",
            f'Line {line} opens a quoted field (") that is never '
            "closed, so the rest of the file would be read as one cell; close the "
            "quote or remove it.",
            line=line,
        )
    delim = delimiter or _sniff(text_bytes, starts, ends)
    if delim not in DELIMITERS and len(delim) != 1:
        raise refuse("bad_delimiter", f"The delimiter must be one character, not {delim!r}.")
    first = int(np.flatnonzero(ends > starts)[0])
    header_text = text_bytes[starts[first] : ends[first]].decode("utf-8")
    header = _parse_one(header_text, delim, line_no[first])
    columns, duplicates = _unique_names(header, notes)
    body = np.arange(first + 1, len(starts))
    blank = body[ends[body] <= starts[body]]
    body = body[ends[body] > starts[body]]
    if body.size == 0:
        raise refuse(
            "no_rows",
            f"{label} has a header ({_names(header)}) but no rows of data "
            "below it; add the rows, or check that this is the right file.",
        )
    lines = line_no[body].astype(np.int64)
    try:
        table = _arrow_read(
            text_bytes,
            int(starts[body[0]]),
            columns,
            delim,
            quoted_newlines,
            int((ends - starts).max()),
        )
        if table.num_rows != lines.size:
            raise ValueError("row count differs from the line scan")
    except (pa.ArrowInvalid, ValueError):
        table, lines = _python_read(text_bytes, delim, columns, header, notes)
    if blank.size:
        notes.add(
            "blank_line",
            "",
            np.ones(blank.size, bool),
            None,
            "this line is blank and was skipped",
            line_no[blank].astype(object),
            severity="warning",
        )
    table, lines = _drop_empty_rows(table, lines, notes)
    if table.num_rows == 0:
        raise refuse(
            "no_rows",
            f"{label} has a header ({_names(header)}) but every row below "
            "it is empty; add the data, or check that this is the right file.",
        )
    notes.rows = table.num_rows
    return CsvData(
        table=table,
        header=header,
        lines=lines,
        encoding=enc,
        delimiter=delim,
        name=label,
        notes=notes,
        duplicates=duplicates,
    )


def _raw_bytes(source: Any, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), f"The file {name!r}" if name else "The file"
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise refuse("no_file", f"There is no file {str(path)!r}; check the path.")
        return path.read_bytes(), f"The file {name or path.name!r}"
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        label = name or getattr(source, "name", None)
        return bytes(data), f"The file {label!r}" if label else "The file"
    raise refuse("bad_source", f"Give a file path, bytes or an open binary file, not {source!r}.")


def _decode(
    raw: bytes, label: str, encoding: str | None, notes: ValidationReport
) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without BOM, and the encoding it was read with."""
    for magic, what in MAGIC:
        if raw.startswith(magic):
            raise refuse(
                "binary_file",
                f"{label} is not a CSV text file: it is {what}. "
                "Open it in its program and export the sheet as 'CSV UTF-8'.",
            )
    if encoding:
        try:
            return _reencode(raw.decode(encoding), encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            line = raw[: getattr(exc, "start", 0)].count(b"\n") + 1
            raise refuse(
                "bad_encoding",
                f"{label} cannot be read as {encoding}"
                + (f" (line {line})" if isinstance(exc, UnicodeDecodeError) else "")
                + "; leave the encoding out to have it detected.",
                line=line,
            ) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        return _utf8(raw, label, "utf-8-sig"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _reencode(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            raise refuse(
                "bad_encoding",
                f"{label} starts like UTF-16 text but is not valid "
                "UTF-16; export it again as 'CSV UTF-8'.",
            ) from exc
    sample = raw[:65536]
    if b"\x00" in sample:
        raise refuse(
            "binary_file",
            f"{label} is not a CSV text file: it contains binary "
            "data (zero bytes). Export the sheet as 'CSV UTF-8' and try again.",
        )
    try:
        return _utf8(raw, label, "utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _not_western(label, raw, raw[exc.start : exc.start + 12]) from exc
    bad = _MOJIBAKE.search(text)
    if bad:
        around = text[max(0, bad.start() - 10) : bad.end() + 10].splitlines()[0]
        raise _not_western(label, raw, around.encode("cp1252"))
    control = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f]", text)
    if control:
        raise refuse(
            "binary_file",
            f"{label} is not a CSV text file: it contains control "
            "characters. Export the sheet as 'CSV UTF-8' and try again.",
        )
    notes.add(
        "encoding",
        "",
        None,
        None,
        "the file is not UTF-8; it was read as Windows-1252 (Western European, what "
        "Excel writes for 'CSV (Comma delimited)'): check accented names in the preview",
        np.array([None]),
        severity="warning",
    )
    return text.encode("utf-8"), "cp1252"


def _utf8(raw: bytes, label: str, enc: str) -> bytes:
    text = raw.decode("utf-8")  # raises UnicodeDecodeError for the caller to handle
    if "\x00" in text:
        raise refuse(
            "binary_file",
            f"{label} is not a CSV text file: it contains binary "
            "data (zero bytes). Export the sheet as 'CSV UTF-8' and try again.",
        )
    return raw


def _reencode(text: str, enc: str) -> tuple[bytes, str]:
    return text.lstrip("\ufeff").encode("utf-8"), enc


def _not_western(label: str, raw: bytes, sample: bytes) -> ValidationFailed:
    shown = sample.decode("cp1252", errors="replace")
    return refuse(
        "unknown_encoding",
        f"{label} is not UTF-8, and read as Western European (Windows-1252) it gives text "
        f"like {shown!r}, which looks wrong, so it was not read. Save it from your spreadsheet "
        "as 'CSV UTF-8', or name its encoding (for example encoding='cp1250' for Central "
        "European or 'cp1251' for Cyrillic).",
    )


def _records(buf: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
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


def _sniff(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> str:
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


def _parse_one(text: str, delim: str, line: int) -> list[str]:
    try:
        rows = list(csv.reader([text], delimiter=delim, strict=True))
    except csv.Error as exc:
        raise refuse(
            "bad_header",
            f"The header (line {line}) cannot be read: {exc}; check its quotes.",
            line=int(line),
        ) from exc
    return [c.strip() for c in rows[0]] if rows else []


def _unique_names(
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


def _arrow_read(
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


def _python_read(
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
            f"{width} columns ({_names(header)}): the value {extra!r} has no column. "
            "Quote values that contain the delimiter, or add the missing header.",
            line=line,
            value=extra,
        )
    raise refuse(
        "ragged_row",
        f"Line {line} has {len(row)} cells but the header has {width} "
        f"columns ({_names(header)}); nothing is filled in for you: add the missing "
        "cells (empty ones are fine: just the delimiters).",
        line=line,
        value=",".join(row),
    )


def _drop_empty_rows(
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


def _names(header: list[str]) -> str:
    shown = ", ".join(repr(h) for h in header[:8])
    return shown + (f" and {len(header) - 8} more" if len(header) > 8 else "")
