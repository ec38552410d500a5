"""Which encoding a CSV file is in: UTF-8 (with or without BOM), UTF-16, or Windows-1252.

Binary files renamed ``.csv`` (workbooks, archives, images) are named and refused; text that
reads as Western European only by turning another code page into mojibake is refused too,
never stored garbled.
"""

from __future__ import annotations

import re

import numpy as np

from anno_core.errors import ValidationFailed
from anno_core.validation.report import ValidationReport
from anno_core.validation.report import refusal as refuse

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


def decode(
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
        try:
            return _utf8(raw, label, "utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise refuse(
                "bad_encoding",
                f"{label} starts with the mark of UTF-8 text but is not valid UTF-8 (line "
                f"{line}); export it again as 'CSV UTF-8'.",
                line=line,
            ) from exc
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
