"""Every file in tests/data/bad is one way a real export goes wrong, with its exact outcome.

Refused files name the line (as a spreadsheet shows it), the column and the problem, and
leave the engine unchanged; accepted files store every row, with the warnings listed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anno_core.errors import ValidationFailed

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"

# file: (line, column, kind, words in the message) of the first error
REFUSED = {
    "01_empty.csv": (None, "", "empty_file", "is empty"),
    "02_header_only.csv": (None, "", "no_rows", "no rows of data"),
    "03_xlsx_renamed.csv": (None, "", "binary_file", "Excel .xlsx"),
    "04_binary_nul.csv": (None, "", "binary_file", "binary data"),
    # positions: the file's own column and the cell as typed
    "05_two_component_position.csv": (3, "pt_position", "bad_position", "has 2 numbers"),
    "06_inf_coordinate.csv": (3, "pt_position_y", "not_finite", "'inf' is not a finite"),
    "07_text_in_numeric.csv": (3, "pt_position_y", "not_a_number", "'five' is not a number"),
    "08_missing_required_column.csv": (
        None,
        "tag",
        "missing_column",
        "required field 'tag' has no column",
    ),
    "09_ragged_row.csv": (3, "", "ragged_row", "the value 'extra' has no column"),
    "10_short_row.csv": (3, "", "ragged_row", "has 2 cells but the header has 4"),
    "11_unclosed_quote.csv": (2, "", "bad_quotes", "never closed"),
    "12_nan_coordinate.csv": (3, "pt_position_y", "not_finite", "'NaN' is not a finite"),
    "13_empty_required_cell.csv": (3, "tag", "missing_value", "required and this cell is empty"),
    "14_partial_position.csv": (3, "pt_position_y", "missing_value", "is empty"),
    "15_decimal_comma.csv": (3, "pt_position_x", "decimal_comma", "read it as 4.5"),
    "16_polish_cp1250.csv": (None, "", "unknown_encoding", "Za¿ó³æ"),
    "17_four_component_position.csv": (2, "pt_position", "bad_position", "has 4 numbers"),
    "18_garbled_position_text.csv": (2, "pt_position", "bad_position", "'two' is not a number"),
    "28_quoted_newline_in_tag.csv": (5, "pt_position_z", "not_a_number", "'nine' is not"),
    "32_duplicated_header.csv": (None, "tag", "duplicate_header", "columns 4, 5"),
}
# file: (rows stored, warning kinds, tags read back)
ACCEPTED = {
    "19_mixed_position_formats.csv": (4, set(), ["a", "b", "c", "d"]),
    "20_crlf_semicolon_bom.csv": (2, set(), ["a", "b"]),
    "21_cp1252_accents.csv": (2, {"encoding"}, ["café", "Größe"]),
    "22_tab_delimited.csv": (1, set(), ["a"]),
    "23_blank_lines.csv": (2, {"blank_line"}, ["a", "b"]),
    "24_trailing_delimiters.csv": (2, {"unnamed_column", "ignored_column"}, ["a", "b"]),
    "25_unknown_columns.csv": (1, {"ignored_column"}, ["a"]),
    "26_formula_cell.csv": (1, {"formula_text"}, ["=SUM(A1)"]),
    "27_very_long_string.csv": (1, set(), ["x" * 100_000]),
    "29_plain_xyz_columns.csv": (1, set(), ["a"]),
    "30_only_delimiter_rows.csv": (1, {"empty_row"}, ["a"]),
    "31_utf16_with_bom.csv": (1, set(), ["ä"]),
    "33_na_text_is_kept.csv": (2, set(), ["NA", "null"]),
    "34_whitespace_numbers.csv": (1, set(), ["a"]),
    "35_spaces_in_header.csv": (1, set(), ["a"]),
}


def test_every_bad_file_has_an_expected_outcome():
    names = {p.name for p in BAD.glob("*.csv")}
    assert names == set(REFUSED) | set(ACCEPTED)
    assert len(names) >= 30


@pytest.fixture
def tags(client):
    client.create_table("tags", "bound_tag", "tags [pytest]", [4, 4, 40])
    client.post_annotation("tags", [{"pt": {"position": [9, 9, 9]}, "tag": "before"}])
    return "tags"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_file_names_line_column_and_stores_nothing(client, tags, name):
    line, column, kind, words = REFUSED[name]
    with pytest.raises(ValidationFailed) as err:
        client.ingest_csv(tags, BAD / name)
    first = err.value.report.errors.iloc[0]
    assert (first["kind"], first["column"]) == (kind, column)
    assert (None if pd.isna(first["line"]) else int(first["line"])) == line
    assert words in str(err.value) or words in first["message"]
    if line is not None:
        assert f"line {line}" in str(err.value).lower()
    assert client.get_annotation_count(tags) == 1  # only the row from before


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_file_stores_every_row_with_its_warnings(client, tags, name):
    rows, warnings, tag_values = ACCEPTED[name]
    plan = client.open_upload(tags, BAD / name)
    check = plan.check()
    assert check.ok, check.summary()
    assert set(check.report.warnings["kind"]) == warnings
    ids = plan.commit()
    assert len(ids) == rows
    got = client.get_annotation(tags, ids)
    assert [g["tag"] for g in got] == tag_values
    assert got[0]["pt_position"] == [1, 2, 3]
