"""The registry of report problem kinds: every kind the code emits is in it, with its label."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anno_core.errors import ValidationFailed
from anno_core.ingest.csvio import read_csv
from anno_core.remote.refusals import report_from_dict
from anno_core.validation.kinds import FOREIGN, PROBLEM_KINDS, known_kind, problem_label
from anno_core.validation.report import ValidationReport

ANNO_CORE = Path(__file__).resolve().parents[2] / "anno_core"


def _emitted_kinds() -> dict[str, list[str]]:
    """Every literal kind passed to a report: ``<report>.add("kind", column, mask, values,
    message, lines...)`` and ``refuse("kind", message...)`` (a one-problem refusal), with the
    files that emit it."""
    found: dict[str, list[str]] = {}
    for path in sorted(ANNO_CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            report_add = isinstance(func, ast.Attribute) and func.attr == "add"
            report_add = report_add and len(node.args) >= 6  # kind, column, mask, values, ...
            refusal = isinstance(func, ast.Name) and func.id in ("refuse", "refusal")
            if report_add or refusal:
                found.setdefault(first.value, []).append(str(path.relative_to(ANNO_CORE)))
    return found


def test_every_kind_the_code_emits_is_registered_with_a_label():
    emitted = _emitted_kinds()
    # the scan must see the three emitters (validator, CSV reader, mapping) and the checks
    # against stored rows, or it proves nothing
    files = {f for fs in emitted.values() for f in fs}
    assert {
        "validation/validator.py",
        "ingest/csvio.py",
        "ingest/csv_encoding.py",
        "ingest/csv_rows.py",
        "ingest/mapping.py",
        "ingest/update_diff.py",
        "engine/store.py",
    } <= files
    assert len(emitted) >= 35
    missing = {k: where for k, where in emitted.items() if k not in PROBLEM_KINDS}
    assert not missing, f"emitted but not registered: {missing}"
    for kind in emitted:
        assert isinstance(problem_label(kind), str) and problem_label(kind).strip()


def test_every_registered_kind_is_emitted_somewhere():
    stale = set(PROBLEM_KINDS) - set(_emitted_kinds()) - {FOREIGN}
    assert not stale, f"registered but never emitted: {stale}"


def test_an_unknown_kind_is_refused():
    rep = ValidationReport(rows=1)
    with pytest.raises(ValueError, match="'typo_kind' is not a registered report problem kind"):
        rep.add("typo_kind", "size", np.array([True]), pd.Series(["x"]), "bad", np.array([2]))
    assert rep.frame.empty  # nothing half-recorded
    with pytest.raises(ValueError, match="add it with its label"):
        problem_label("typo_kind")


def test_a_server_report_with_a_kind_we_do_not_know_is_kept_as_a_problem():
    rep = report_from_dict(
        {
            "rows": 2,
            "problems": [
                {"line": 2, "column": "size", "value": "x", "message": "m", "kind": "new_check"},
                {"line": 3, "column": "size", "value": "", "message": "m2", "kind": "not_text"},
            ],
        },
        {2: 0, 3: 1},
    )
    assert rep.frame["kind"].tolist() == ["problem", "not_text"]
    assert known_kind("new_check") == known_kind(None) == FOREIGN
    assert known_kind("bad_id") == "bad_id"


def test_counts_by_kind_carry_the_registered_label():
    with pytest.raises(ValidationFailed) as refused:
        read_csv(b"a,b\n1,2\n3\n", name="x.csv")
    rep = ValidationReport(rows=3)
    rep.merge(refused.value.report)
    rep.add(
        "not_text", "b", np.array([True, True, False]), pd.Series([1, 2, 3]), "m", np.arange(2, 5)
    )
    table = rep.by_kind()
    assert table.columns.tolist() == ["problem", "severity", "rows", "first", "kind"]
    by = dict(zip(table["kind"], zip(table["problem"], table["rows"], strict=True), strict=True))
    assert by == {
        "ragged_row": ("wrong number of cells", 1),
        "not_text": ("not text", 2),
    }
    assert table["kind"].tolist()[0] == "not_text"  # most rows first within errors
