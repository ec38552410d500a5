"""Item 5: odd values over HTTP are a 400/422 with a sentence, never a 500, and write nothing.
The same values through the Python client are an AnnoError on every backend."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from anno_core.errors import AnnoError, RemoteError
from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.hostile.conftest import check_refusal

BIG = 2**63
DEEP = "[" * 10_000 + "]" * 10_000


def _cases(server, volume):
    """(name, method, url, keyword arguments of requests) of each odd request."""
    base = {"aligned_volume": volume, "table_name": "syn"}
    annotations = ep.url(server.url, ep.ANNOTATIONS, **base)
    tags = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="tags")
    query = ep.url(server.url, ep.QUERY, **base)
    count = ep.url(server.url, ep.QUERY_COUNT, **base)
    frame = ep.url(server.url, ep.FRAME, **base)
    tables = ep.url(server.url, ep.TABLES, aligned_volume=volume)

    def create(**metadata):
        md = {"description": "d", "voxel_resolution_x": 4, "voxel_resolution_y": 4}
        md.update({"voxel_resolution_z": 40, **metadata})
        return {"json": {"table_name": "t2", "schema_type": "synapse", "metadata": md}}

    def raw(text: str) -> dict:
        return {"data": text.encode(), "headers": {"Content-Type": "application/json"}}

    return [
        ("get ids >= 2**63", "GET", annotations, {"params": {"annotation_ids": str(BIG)}}),
        ("get ids 1e20", "GET", annotations, {"params": {"annotation_ids": "1e20"}}),
        ("get ids digits", "GET", annotations, {"params": {"annotation_ids": "1,²"}}),
        ("delete ids >= 2**63", "DELETE", annotations, raw(f'{{"annotation_ids": [{BIG}]}}')),
        ("delete ids 1e20", "DELETE", annotations, raw('{"annotation_ids": [1e20]}')),
        (
            "history >= 2**63",
            "GET",
            ep.url(server.url, ep.HISTORY, **base, annotation_id=BIG),
            {},
        ),
        ("query ids", "POST", query, {"json": {"ids": [BIG]}}),
        ("query limit", "POST", query, raw(f'{{"limit": {BIG}}}')),
        ("query offset", "POST", query, raw(f'{{"offset": {BIG}}}')),
        ("query limit 1e20", "POST", query, raw('{"limit": 1e20}')),
        ("filter >= 2**63", "POST", query, raw(f'{{"filters": {{"size": {BIG}}}}}')),
        ("filter list", "POST", count, {"json": {"filters": {"size": [1, 2]}}}),
        ("filter object", "POST", count, {"json": {"filters": {"size": {"a": 1}}}}),
        ("filter surrogate", "POST", count, raw('{"filters": {"size": "\\ud800"}}')),
        (
            "user_id >= 2**63",
            "POST",
            tables,
            raw(
                json.dumps(create()["json"]).replace(
                    '"description"', f'"user_id": {BIG}, "description"'
                )
            ),
        ),
        ("user_id true", "POST", tables, create(user_id=True)),
        ("segmentation dict", "POST", tables, create(flat_segmentation_source={"a": 1})),
        ("resolution true", "POST", tables, create(voxel_resolution_x=True)),
        (
            "resolution 1e400",
            "POST",
            tables,
            raw(
                json.dumps(create()["json"]).replace(
                    '"voxel_resolution_x": 4', '"voxel_resolution_x": 1e400'
                )
            ),
        ),
        ("notice object", "POST", tables, create(notice_text={"a": 1})),
        (
            "description surrogate",
            "POST",
            tables,
            raw(
                json.dumps(create()["json"]).replace(
                    '"description": "d"', '"description": "d\\ud800"'
                )
            ),
        ),
        (
            "frame n >= 2**63",
            "POST",
            frame,
            raw(f'{{"frame": {{"n": {BIG}, "columns": []}}}}'),
        ),
        (
            "frame Int64 >= 2**64",
            "POST",
            frame,
            {
                "json": {
                    "frame": {
                        "n": 1,
                        "columns": [{"name": "size", "dtype": "Int64", "values": [2**64]}],
                    }
                }
            },
        ),
        ("nested 10,000 deep", "POST", annotations, raw(DEEP)),
        ("nested annotations", "POST", annotations, raw('{"annotations": ' + DEEP + "}")),
        (
            "position 10**400",
            "POST",
            annotations,
            raw(
                json.dumps({"annotations": [synapse()]}).replace(
                    "[10, 20, 30]", "[1" + "0" * 400 + ", 2, 3]"
                )
            ),
        ),
        (
            "size 10**400",
            "POST",
            annotations,
            raw(json.dumps({"annotations": [synapse()]}).replace("120.0", "1" + "0" * 400)),
        ),
        (
            "lone surrogate",
            "POST",
            tags,
            raw('{"annotations": [{"pt": {"position": [1, 2, 3]}, "tag": "\\ud800"}]}'),
        ),
    ]


NAMES = [c[0] for c in _cases(type("S", (), {"url": "http://x"})(), "v")]


@pytest.mark.parametrize("name", NAMES)
def test_odd_requests_are_refused_with_a_sentence_and_write_nothing(server, http, volume, name):
    client = server.connect(aligned_volume=volume)
    client.create_table("syn", "synapse", "odd [pytest]", [4, 4, 40])
    client.create_table("tags", "bound_tag", "odd [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse()])
    [(_, method, url, kwargs)] = [c for c in _cases(server, volume) if c[0] == name]
    r = http.request(method, url, timeout=60, **kwargs)
    check_refusal(r)
    assert client.get_annotation_count("syn") == 1
    assert client.get_annotation_count("tags") == 0
    assert sorted(client.get_tables()) == ["syn", "tags"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_annotation("syn", [BIG]),
        lambda c: c.get_history("syn", BIG),
        lambda c: c.query_annotations("syn", ids=[BIG]),
        lambda c: c.query_annotations("syn", limit=BIG),
        lambda c: c.query_annotations("syn", offset=-1),
        lambda c: c.query_annotations("syn", filters={"size": BIG}),
        lambda c: c.count_annotations("syn", filters={"size": [1, 2]}),
        lambda c: c.count_annotations("syn", filters={"size": {"a": 1}}),
        lambda c: c.create_table("t2", "synapse", "d", [4, 4, 40], user_id=BIG),
        lambda c: c.create_table("t2", "synapse", "d", [4, 4, 40], user_id=True),
        lambda c: c.create_table(
            "t2", "synapse", "d", [4, 4, 40], flat_segmentation_source={"a": 1}
        ),
        lambda c: c.post_annotation("syn", [synapse(pre_pt={"position": [10**400, 2, 3]})]),
        lambda c: c.post_annotation("syn", [synapse(size=10**400)]),
        lambda c: c.post_annotation("tags", [{"pt": {"position": [1, 2, 3]}, "tag": "\ud800"}]),
        lambda c: c.post_annotation_df(
            "syn",
            pd.DataFrame(
                {f"{p}_position": [[1, 2, 3]] for p in ("pre_pt", "post_pt", "ctr_pt")}
                | {"size": pd.Series([10**400], dtype=object)}
            ),
            position_columns=None,
        ),
    ],
)
def test_the_same_values_through_the_client_are_an_anno_error(client, call):
    client.create_table("syn", "synapse", "odd [pytest]", [4, 4, 40])
    client.create_table("tags", "bound_tag", "odd [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse()])
    with pytest.raises(AnnoError) as err:
        call(client)
    assert not isinstance(err.value, RemoteError), err.value  # the server's 500
    assert err.value.message.rstrip().endswith(".")
    assert client.get_annotation_count("syn") == 1
    assert client.get_annotation_count("tags") == 0
    assert sorted(client.get_tables()) == ["syn", "tags"]
