"""Bad requests get the right status and one JSON sentence, never a trace, and write nothing."""

from __future__ import annotations

import json

import pytest
import requests

from anno_core.wire import endpoints as ep
from tests.conftest import synapse


@pytest.fixture
def table(client) -> str:
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    client.post_annotation("syn", [synapse()])
    return "syn"


@pytest.fixture
def http(server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.tokens['admin']}"
    return session


def _check(r: requests.Response, status: int, kind: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) >= {"error", "message"}
    if kind:
        assert body["error"] == kind
    assert body["message"].rstrip().endswith((".", "?")), body["message"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def _unchanged(client, table: str) -> None:
    assert client.get_annotation_count(table) == 1
    assert client.get_tables() == [table]


def test_malformed_json(server, http, client, volume, table):
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    for body in (b"{not json", b"", b"\xff\xfe", b'{"annotations": [}'):
        r = http.post(url, data=body, headers={"Content-Type": "application/json"})
        _check(r, 400, "invalid_argument")
    r = http.post(ep.url(server.url, ep.TABLES, aligned_volume=volume), data=b"[1, 2")
    assert "not valid JSON" in _check(r, 400)["message"]
    _unchanged(client, table)


@pytest.mark.parametrize(
    "body,status,words",
    [
        ([synapse()], 400, "JSON object"),
        ({"annotations": "x"}, 400, "list of annotation objects"),
        ({"annotations": [5]}, 422, "not a record"),
        ({"annotations": [synapse(size="big")]}, 422, "not a number"),
        ({"annotations": [synapse(pre_pt={"position": "1,2,3"})]}, 422, "exactly 3 numbers"),
        ({"annotations": [synapse(id="seven")]}, 422, "positive whole number"),
    ],
)
def test_wrong_types_in_posts(server, http, client, volume, table, body, status, words):
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    got = _check(http.post(url, json=body), status)
    assert words in got["message"]
    if status == 422 and words != "not a record":  # a non-record fails before any report
        assert got["report"]["problems"][0]["message"]
    _unchanged(client, table)


@pytest.mark.parametrize(
    "body,words",
    [
        ({"table_name": 5, "schema_type": "synapse", "metadata": {}}, "'table_name' must be text"),
        ({"table_name": "t2", "schema_type": ["synapse"]}, "'schema_type' must be text"),
        ({"table_name": "t2", "schema_type": "synapse", "metadata": "x"}, "JSON object"),
        (
            {
                "table_name": "t2",
                "schema_type": "synapse",
                "metadata": {"description": "d", "voxel_resolution_x": 4},
            },
            "voxel_resolution_x, _y",
        ),
        (
            {
                "table_name": "t2",
                "schema_type": "synapse",
                "metadata": {
                    "description": "d",
                    "voxel_resolution_x": "four",
                    "voxel_resolution_y": 4,
                    "voxel_resolution_z": 40,
                },
            },
            "voxel_resolution",
        ),
        (
            {
                "table_name": "t2",
                "schema_type": "synapse",
                "metadata": {
                    "description": "d",
                    "voxel_resolution_x": 4,
                    "voxel_resolution_y": 4,
                    "voxel_resolution_z": 40,
                    "colour": "red",
                },
            },
            "Unknown metadata 'colour'",
        ),
        (
            {
                "table_name": "Bad Name",
                "schema_type": "synapse",
                "metadata": {
                    "description": "d",
                    "voxel_resolution_x": 4,
                    "voxel_resolution_y": 4,
                    "voxel_resolution_z": 40,
                },
            },
            "not allowed",
        ),
    ],
)
def test_wrong_types_in_create_table(server, http, client, volume, table, body, words):
    r = http.post(ep.url(server.url, ep.TABLES, aligned_volume=volume), json=body)
    assert words in _check(r, 400)["message"]
    _unchanged(client, table)


def test_metadata_that_can_never_change(server, http, client, volume, table):
    r = http.put(
        ep.url(server.url, ep.TABLES, aligned_volume=volume),
        json={"table_name": table, "metadata": {"schema_type": "bound_tag"}},
    )
    assert "can never change" in _check(r, 400, "invalid_argument")["message"]
    assert client.get_table_metadata(table)["schema_type"] == "synapse"


def test_unknown_table_and_unknown_schema(server, http, client, volume, table):
    r = http.get(ep.url(server.url, ep.TABLE, aligned_volume=volume, table_name="sym"))
    assert "Did you mean 'syn'" in _check(r, 404, "table_not_found")["message"]
    r = http.post(
        ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="nope"),
        json={"annotations": [synapse()]},
    )
    _check(r, 404, "table_not_found")
    r = http.post(
        ep.url(server.url, ep.TABLES, aligned_volume=volume),
        json={
            "table_name": "t2",
            "schema_type": "simple_point",
            "metadata": {
                "description": "d",
                "voxel_resolution_x": 4,
                "voxel_resolution_y": 4,
                "voxel_resolution_z": 40,
            },
        },
    )
    _check(r, 404, "schema_not_found")
    _check(http.get(server.url + "/schema/api/v2/type/simple_point"), 404, "schema_not_found")
    r = http.get(
        ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table),
        params={"annotation_ids": "1,77"},
    )
    assert "77" in _check(r, 404, "annotation_not_found")["message"]
    r = http.get(
        ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table),
        params={"annotation_ids": "1,x"},
    )
    _check(r, 400, "invalid_argument")
    _unchanged(client, table)


def test_no_token_and_bad_token_write_nothing(server, client, volume, table):
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    _check(requests.post(url, json={"annotations": [synapse()]}), 401, "not_authenticated")
    r = requests.post(
        url, json={"annotations": [synapse()]}, headers={"Authorization": "Bearer nope"}
    )
    _check(r, 401, "not_authenticated")
    r = requests.delete(ep.url(server.url, ep.TABLE, aligned_volume=volume, table_name=table))
    _check(r, 401)
    _unchanged(client, table)


def test_over_size_batches_are_413(server, http, client, volume, table):
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    body = json.dumps({"annotations": [synapse(i) for i in range(ep.MAX_ANNOTATIONS + 1)]})
    r = http.post(url, data=body, headers={"Content-Type": "application/json"})
    assert "10,001 annotations" in _check(r, 413, "too_many_annotations")["message"]
    r = http.delete(url, json={"annotation_ids": list(range(1, ep.MAX_ANNOTATIONS + 2))})
    _check(r, 413)
    _unchanged(client, table)
    # Exactly the limit is fine.
    ids = http.post(
        url, json={"annotations": [synapse(i) for i in range(ep.MAX_ANNOTATIONS)]}
    ).json()
    assert len(ids) == ep.MAX_ANNOTATIONS


def test_no_redirects_and_json_for_unknown_routes(server, http, volume, table):
    r = http.get(ep.url(server.url, ep.TABLES, aligned_volume=volume) + "/", allow_redirects=False)
    assert r.status_code == 200 and r.json() == [table]
    _check(http.get(server.url + "/no/such/route", allow_redirects=False), 404, "not_found")
    r = http.patch(ep.url(server.url, ep.TABLES, aligned_volume=volume), json={})
    assert "PATCH is not allowed" in _check(r, 405, "method_not_allowed")["message"]


def test_refused_requests_take_no_lock_on_the_engine(server, http, client, volume, table):
    """After a burst of refusals the server still answers at once."""
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name=table)
    for _ in range(20):
        http.post(url, data=b"{", headers={"Content-Type": "application/json"})
    assert client.post_annotation(table, [synapse(5)]) == [2]
