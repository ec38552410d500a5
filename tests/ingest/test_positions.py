"""The one position parser: the validator, CSV frames and the 3D preview read cells alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from anno_core.ingest.csv_frame import read_rows
from anno_core.ingest.csvio import read_csv
from anno_core.ingest.frames import csv_frame, process_position_columns
from anno_core.ingest.mapping import propose_mapping
from anno_core.schemas import schema_spec
from anno_core.validation.positions import parse_positions
from anno_core.validation.validator import validate_frame

NAN = np.nan
CELLS = [  # (cell, x y z or None when it is not a position)
    ("[1, 2, 3]", (1, 2, 3)),
    ("(4,5,6)", (4, 5, 6)),
    ("7 8 9", (7, 8, 9)),
    (" [ 1.5 ,  -2e3 , +3 ] ", (1.5, -2000, 3)),
    ("1\t2\t3", (1, 2, 3)),
    ("[1, 2]", None),
    ("[1, 2, 3, 4]", None),
    ("a b c", None),
    ("1,,2", None),
    ("1,5 2,5 3", None),
    ("", None),
    ("[1, 2, nan]", (1, 2, NAN)),  # read; the validator says it is not finite
]


def _same(got: np.ndarray, want: tuple) -> bool:
    return bool(np.allclose(got, np.array(want, dtype=float), equal_nan=True))


@pytest.mark.parametrize("cell, want", CELLS)
def test_text_cells_read_the_same_from_pandas_and_from_arrow(cell, want):
    for column in (pd.Series([cell], dtype=object), pa.chunked_array([pa.array([cell])])):
        vals, bad = parse_positions(column)
        assert bool(bad[0]) is (want is None)
        if want is not None:
            assert _same(vals[0], want)
        else:
            assert np.isnan(vals[0]).all()


def test_lists_tuples_and_blanks():
    s = pd.Series([[1, 2, 3], (4, "5", 6.5), np.array([7, 8, 9]), [1, 2], [True, 1, 2], None, 5])
    vals, bad = parse_positions(s)
    assert bad.tolist() == [False, False, False, True, True, False, True]
    assert vals[:3].tolist() == [[1, 2, 3], [4, 5, 6.5], [7, 8, 9]]
    assert np.isnan(vals[5]).all()  # a blank is a NaN row, not a problem here
    texts = pd.Series(["[1, 2, 3]", [1, 2, 3]], dtype=object)
    assert parse_positions(texts, allow_strings=False)[1].tolist() == [True, False]


def test_a_million_text_cells_in_one_column():
    n = 1_000_000
    cells = pa.array([f"[{i}, {i + 1}, 40]" for i in range(0, n, 1000)] * 1000)
    vals, bad = parse_positions(pa.chunked_array([cells]))
    assert not bad.any() and vals.shape == (n, 3) and vals[1001].tolist() == [1000, 1001, 40]


def test_validator_csv_frames_records_and_preview_agree():
    """The same cells through every reader: same numbers, same rows refused."""
    from ui.preview import positions_nm  # the dashboard's reader is the same parser

    cells = [c for c, _ in CELLS]
    spec = schema_spec("bound_tag")
    checked = validate_frame(spec, pd.DataFrame({"pt_position": cells, "tag": "t"}))
    refused = set(checked.report.frame.query("column == 'pt_position'")["row"].tolist())
    expected_refused = {
        i for i, (_, want) in enumerate(CELLS) if want is None or np.isnan(want).any()
    }
    assert refused == expected_refused

    body = "pt_position,tag\n" + "".join(f'"{c}",t\n' for c in cells if c)
    data = read_csv(body.encode())
    rows = read_rows(data, spec, propose_mapping(data.columns, spec))
    given = [(c, want) for c, want in CELLS if c]
    bad = [i for i, (_, want) in enumerate(given) if want is None or np.isnan(want).any()]
    # bad cells are reported as typed, by the file's column; the others are read all the same
    assert rows.report.frame["row"].tolist() == bad
    assert rows.report.frame["value"].tolist() == [given[i][0] for i in bad]
    assert rows.covered["pt_position"].nonzero()[0].tolist() == bad
    got = rows.frame[[f"pt_position_{a}" for a in "xyz"]].to_numpy()
    for i, (_, want) in enumerate(given):
        assert np.isnan(got[i]).all() if i in bad else _same(got[i], want)
    good = [c for c, want in CELLS if want is not None and not np.isnan(want).any()]
    data = read_csv(("pt_position,tag\n" + "".join(f'"{c}",t\n' for c in good)).encode())
    frame = csv_frame(data, spec, propose_mapping(data.columns, spec))
    got = frame[[f"pt_position_{a}" for a in "xyz"]].to_numpy()
    assert np.allclose(got, [want for c, want in CELLS if c in good])

    nm = positions_nm(pd.DataFrame({"pt_position": cells}), "pt_position", [1, 1, 1])
    for i, (_, want) in enumerate(CELLS):
        if i in expected_refused:
            assert np.isnan(nm[i]).all()
        else:
            assert _same(nm[i], want)

    records = process_position_columns(pd.DataFrame({"pt_position": cells}), ["pt_position"])
    for rec, (cell, want) in zip(records, CELLS, strict=True):
        position = rec["pt"]["position"]
        if want is None:
            assert position == cell  # passed on as given, for the validator to refuse
        elif not np.isnan(want).any():
            assert position == list(want)
