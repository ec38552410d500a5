"""The dashboard draws what anno_core decides: report labels, triples, units, digests, states
and limits come from anno_core, and ui/ and pages/ keep no copy of them."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from anno_core.common import CHUNK
from anno_core.validation.kinds import PROBLEM_KINDS

from .conftest import ROOT

# Names of anno_core's single sources, and the names their old copies had in ui/.
OWNED_BY_ANNO_CORE = {
    "CHUNK",
    "FALSE_WORDS",
    "PROBLEMS",
    "PROBLEM_KINDS",
    "Progress",
    "TRUE_WORDS",
    "_parse_points",
    "annotation_state",
    "column_triples",
    "file_digest",
    "parse_positions",
    "scale_factor",
    "split_triples",
    "state_of",
}


def test_ui_and_pages_define_none_of_anno_cores_single_sources():
    defined = {}
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in names:
                if name in OWNED_BY_ANNO_CORE:
                    defined.setdefault(name, []).append(path.name)
    assert not defined


def test_the_edit_page_takes_as_many_ids_as_a_query():
    from ui import edit_state

    assert edit_state.MAX_IDS == CHUNK


def _report_view() -> None:
    import numpy as np
    import pandas as pd

    from anno_core.validation.report import ValidationReport
    from ui import upload_views as v

    rep = ValidationReport(rows=3)
    lines = np.arange(2, 5)
    every = np.array([True, True, True])
    rep.add("ragged_row", "", every, pd.Series(["1,2"] * 3), "cells", lines)
    rep.add("bad_quotes", "", np.array([True, False, False]), None, "quote", lines)
    rep.add("blank_line", "", None, None, "blank", lines, severity="warning")
    v.report_view(rep, "f", "t_report")


def test_the_report_counts_show_each_kinds_registered_label():
    at = AppTest.from_function(_report_view, default_timeout=30).run()
    assert not at.exception, at.exception
    counts = at.dataframe[0].value  # the counts table comes first
    assert counts["problem"].tolist() == [
        PROBLEM_KINDS["ragged_row"],
        PROBLEM_KINDS["bad_quotes"],
        PROBLEM_KINDS["blank_line"],
    ]
    assert counts["rows"].tolist() == [3, 1, 1]
    assert counts["severity"].tolist() == ["error", "error", "warning"]


def test_the_held_file_digest_is_anno_cores():
    from anno_core.ingest.plan import file_digest

    def hold() -> None:
        from ui import upload_state as us

        us.hold("a.csv", b"x,y,z\n1,2,3\n", "dropped")

    at = AppTest.from_function(hold, default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.session_state["up_held"].digest == file_digest(b"x,y,z\n1,2,3\n")


def test_the_grid_state_column_is_anno_cores_annotation_state():
    from anno_core.ingest.versions import state_of
    from ui.edit_grid import grid_frame

    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "superceded_id": [np.nan, 9, np.nan],
            "valid": [True, False, False],
            "deleted": [pd.NaT, pd.NaT, pd.Timestamp("2026-01-01")],
            "created": pd.Timestamp("2025-01-01"),
            "created_by": [1, 1, 2],
        }
    )
    shown = grid_frame(frame, [], {"1": "ana"}, writable=False)
    assert shown["state"].tolist() == ["live", "replaced by 9", "deleted"]
    assert shown["state"].tolist() == [str(state_of(r)) for _, r in frame.iterrows()]
