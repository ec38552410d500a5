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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

from anno_core.ingest.csv_encoding import decode
from anno_core.ingest.csv_rows import (
    DELIMITERS,
    arrow_read,
    drop_empty_rows,
    header_names,
    parse_one,
    python_read,
    records,
    sniff,
    text_after_quote,
    unique_names,
)
from anno_core.validation.report import ValidationReport
from anno_core.validation.report import refusal as refuse

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


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
    text_bytes, enc = decode(raw, label, encoding, notes)
    if b"\n" not in text_bytes and b"\r" in text_bytes:
        text_bytes = text_bytes.replace(b"\r", b"\n")  # classic Mac line ends
    if not text_bytes.strip(b" \t\r\n,;|"):
        raise refuse(
            "empty_file",
            f"{label} is empty: there is no header and no data. "
            "Export the sheet again with its header row and at least one row.",
        )
    starts, ends, line_no, quoted_newlines = records(text_bytes)
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
    delim = delimiter or sniff(text_bytes, starts, ends)
    if delim not in DELIMITERS and len(delim) != 1:
        raise refuse("bad_delimiter", f"The delimiter must be one character, not {delim!r}.")
    if quotes and (after := text_after_quote(text_bytes, delim)) is not None:
        raise refuse(
            "bad_quotes",
            f"Line {after[0]} has text right after a closing quote ({after[1]!r}), which "
            'would be read as something else than written; quote the whole cell ("x""y" '
            'stands for x"y) or remove the quotes.',
            line=after[0],
        )
    first = int(np.flatnonzero(ends > starts)[0])
    header_text = text_bytes[starts[first] : ends[first]].decode("utf-8")
    header = parse_one(header_text, delim, line_no[first])
    columns, duplicates = unique_names(header, notes)
    body = np.arange(first + 1, len(starts))
    blank = body[ends[body] <= starts[body]]
    body = body[ends[body] > starts[body]]
    if body.size == 0:
        raise refuse(
            "no_rows",
            f"{label} has a header ({header_names(header)}) but no rows of data "
            "below it; add the rows, or check that this is the right file.",
        )
    lines = line_no[body].astype(np.int64)
    try:
        table = arrow_read(
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
        table, lines = python_read(text_bytes, delim, columns, header, notes)
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
    table, lines = drop_empty_rows(table, lines, notes)
    if table.num_rows == 0:
        raise refuse(
            "no_rows",
            f"{label} has a header ({header_names(header)}) but every row below "
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
