"""Item 6: whatever bytes arrive as a CSV file, the reader and `check()` accept them or raise
an AnnoError with a sentence: never another exception, never a hang.

Generated from raw bytes and from CSV-like text built of the characters that make files odd
(quotes, delimiters, line ends, BOMs, invalid UTF-8, NULs, numbers that overflow or
underflow). A modest example count keeps it fast; pytest-timeout bounds the whole test, so a
hang fails it."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, example, given, settings

import anno_core
from anno_core.engine import db
from anno_core.errors import AnnoError
from anno_core.ingest.csvio import read_csv

PIECES = [
    ",",
    ";",
    "\t",
    "|",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    " ",
    "0",
    "1",
    "-",
    "+",
    ".",
    "e",
    "1e-400",
    "1e400",
    "0x10",
    "9007199254740993.0",
    "nan",
    "inf",
    "[1, 2, 3]",
    "1 2 3",
    "=SUM(A1)",
    "@x",
    "tag",
    "pt_position",
    "pt_position_x",
    "id",
    "é",
    "\ufeff",
    "\x00",
]
RAW_PIECES = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff", b"\xc3", b"\x80", b"PK\x03\x04"]

csv_like = st.lists(
    st.one_of(
        st.sampled_from(PIECES).map(lambda s: s.encode("utf-8")),
        st.sampled_from(RAW_PIECES),
    ),
    max_size=60,
).map(b"".join)
header = st.sampled_from([b"tag,pt_position\n", b"id;tag;pt_position\n", b"tag\tpt_position_x\t"])
cell = st.one_of(
    st.text(max_size=8), st.sampled_from(PIECES), st.floats().map(str), st.integers().map(str)
)
rows = st.lists(st.lists(cell, min_size=1, max_size=4).map(",".join), max_size=6)
columns = st.sampled_from(
    ["tag,pt_position", "func_id,pt_position", "id,tag,pt_position_x,pt_position_y,pt_position_z"]
)
table_like = st.tuples(columns, rows).map(
    lambda t: "\n".join([t[0], *t[1]]).encode("utf-8", "surrogatepass")
)
anything = st.one_of(
    st.binary(max_size=300), csv_like, st.tuples(header, csv_like).map(b"".join), table_like
)


@pytest.fixture(scope="module")
def tags(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("property")
    client = anno_core.connect(data_dir=data_dir)
    client.create_table("tags", "bound_tag", "property [pytest]", [4, 4, 40])
    client.create_table("coreg", "microns_func_coreg", "property [pytest]", [4, 4, 40])
    yield client
    db.dispose(anno_core.Settings(data_dir=data_dir).resolved_database_url())


def _never_anything_but_anno_error(client, raw: bytes) -> None:
    try:
        read_csv(raw)
    except AnnoError as exc:
        assert exc.message.strip(), raw
    for table in ("tags", "coreg"):
        try:
            client.open_upload(table, raw).check()
        except AnnoError as exc:
            assert exc.message.strip(), raw


@pytest.mark.timeout(300)
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(b"\xef\xbb\xbf\xff")  # a BOM, then invalid UTF-8: was a UnicodeDecodeError
@example(b'tag,pt_position\n"x"y,1 2 3\n')
@example(b"tag,pt_position\n\xef\xbb\xbf\xff,1 2 3\n")
@example(b"func_id,pt_position\n0x10,1 2 3\n1e-400,1 2 3\n")
@given(raw=anything)
def test_any_bytes_are_accepted_or_refused_with_a_sentence(tags, raw):
    _never_anything_but_anno_error(tags, raw)


def test_a_bom_followed_by_invalid_utf8_is_refused_with_a_sentence(tags):
    with pytest.raises(AnnoError, match="not valid UTF-8"):
        read_csv(b"\xef\xbb\xbf\xff")
