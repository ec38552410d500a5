"""Property, on every backend: the engine accepts exactly what emannotationschemas accepts,
record by record, except where we are documented stricter or more lenient (validation.py's
docstring, README): positions must be exactly 3 finite numbers; whole numbers must be
integral (marshmallow truncates 12.5); "12.0" text is read as 12; a reference target_id
must exist.
"""

from __future__ import annotations

import math
import re

import hypothesis.strategies as st
import marshmallow as mm
import pytest
from hypothesis import HealthCheck, given, settings

from anno_core.errors import AnnoError
from anno_core.schemas import marshmallow_class

SCHEMAS = ("synapse", "cell_type_local", "bound_tag", "cell_type_reference", "nucleus_detection")
TARGETS = (1, 2, 3)

good_pos = st.lists(
    st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False)),
    min_size=3,
    max_size=3,
)
bad_pos = st.one_of(
    st.lists(st.integers(0, 9), min_size=0, max_size=2),
    st.lists(st.integers(0, 9), min_size=4, max_size=5),
    st.just([1, "a", 3]),
    st.just([1, math.nan, 3]),
    st.just([1, math.inf, 3]),
)
position = st.one_of(good_pos, good_pos, bad_pos)
text = st.one_of(st.text(max_size=8), st.text(max_size=8), st.integers(0, 5), st.none())
number = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-5, 5),
    st.none(),
    st.just("2.5"),
    st.just("abc"),
    st.just(math.inf),
    st.just(math.nan),
)
target = st.one_of(
    st.sampled_from(TARGETS),
    st.just(99),
    st.just(2.5),
    st.just("3"),
    st.just("3.0"),
    st.just("x"),
    st.none(),
)
valid_flag = st.sampled_from([True, False, "true", "yes", "maybe", 1, 0])


def _record(schema: str) -> st.SearchStrategy[dict]:
    point = st.builds(lambda p: {"position": p}, position)
    fields = {
        "synapse": {"pre_pt": point, "post_pt": point, "ctr_pt": point, "size": number},
        "cell_type_local": {"pt": point, "classification_system": text, "cell_type": text},
        "bound_tag": {"pt": point, "tag": text},
        "cell_type_reference": {
            "target_id": target,
            "classification_system": text,
            "cell_type": text,
        },
        "nucleus_detection": {"pt": point, "volume": number, "bb_start": point, "bb_end": point},
    }[schema]
    fields = {**fields, "valid": valid_flag}
    return st.fixed_dictionaries({}, optional=fields)


def _marshmallow_ok(schema: str, rec: dict) -> bool:
    try:
        marshmallow_class(schema)(context={"postgis": True}).load(rec, unknown=mm.EXCLUDE)
    except mm.ValidationError:
        return False
    except (IndexError, TypeError, ValueError):
        return False  # the schema itself crashes (a 500 from a real server): not accepted
    return True


def _finite3(p: object) -> bool:
    return (
        isinstance(p, list)
        and len(p) == 3
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p
        )
    )


def _expected(schema: str, rec: dict) -> bool:
    """marshmallow's verdict, with our documented differences applied."""
    probe = dict(rec)
    if probe.get("target_id") == "3.0":
        probe["target_id"] = "3"  # more lenient: "3.0" is read as 3
    ok = _marshmallow_ok(schema, probe)
    for val in rec.values():
        if isinstance(val, dict) and "position" in val and not _finite3(val["position"]):
            ok = False  # stricter: exactly 3 finite numbers
    for val in rec.values():
        if isinstance(val, str) and re.search("[\x00\ud800-\udfff]", val):
            ok = False  # stricter: no backend can store NUL or a lone surrogate
    if "target_id" in rec:
        t = rec["target_id"]
        if t == 2.5 or t == 99:
            ok = False  # stricter: integral, and the target must exist
    return ok


@pytest.fixture
def tables(client):
    for schema in SCHEMAS:
        kwargs = {"reference_table": "targets"} if schema == "cell_type_reference" else {}
        if schema == "cell_type_reference":
            client.create_table("targets", "bound_tag", "targets [pytest]", [1, 1, 1])
            client.post_annotation(
                "targets", [{"pt": {"position": [i, i, i]}, "tag": "t"} for i in TARGETS]
            )
        client.create_table(f"t_{schema}", schema, "property [pytest]", [1, 1, 1], **kwargs)
    return client


@pytest.mark.parametrize("schema", SCHEMAS)
def test_engine_verdict_equals_marshmallow_record_by_record(tables, schema, backend_kind):
    client = tables
    table = f"t_{schema}"

    @settings(
        max_examples=150 if backend_kind == "sqlite" else 40,  # the others: the same code path
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(rec=_record(schema))
    def check(rec: dict) -> None:
        expected = _expected(schema, rec)
        before = client.get_annotation_count(table)
        try:
            client.post_annotation(table, rec)
            accepted = True
        except AnnoError:
            accepted = False
        assert accepted == expected, f"{rec!r}: ours {accepted}, expected {expected}"
        assert client.get_annotation_count(table) == before + accepted

    check()
