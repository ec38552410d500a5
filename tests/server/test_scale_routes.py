"""Our routes for large tables: a sample of points of the size asked (only those rows
travel), keyset pages, estimated counts; bad values are one sentence and a 400."""

from __future__ import annotations

import pytest
import requests

from anno_core.wire import endpoints as ep
from anno_core.wire.frames import decode_frame
from tests.conftest import synapse


@pytest.fixture
def table(client) -> str:
    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse(i) for i in range(30)])
    return "syn"


@pytest.fixture
def http(server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.tokens['admin']}"
    return session


def test_points_come_as_a_sample_of_the_size_asked(server, http, volume, table):
    url = ep.url(server.url, ep.POINTS, aligned_volume=volume, table_name=table)
    got = http.get(url, params={"limit": 7, "columns": "size"})
    assert got.status_code == 200, got.text
    frame = decode_frame(got.json()["frame"])
    assert len(frame) == 7 and list(frame.columns)[-1] == "size"
    again = decode_frame(http.get(url, params={"limit": 7, "columns": "size"}).json()["frame"])
    assert again.equals(frame)
    assert len(decode_frame(http.get(url).json()["frame"])) == 30  # default: up to 100,000
    for bad in ("0", "-3", "ten", "1000001"):
        r = http.get(url, params={"limit": bad})
        assert r.status_code == 400 and "number of points from 1 to 1,000,000" in r.text
    r = http.get(url, params={"columns": "nope"})
    assert r.status_code == 400 and "no column 'nope'" in r.text


def test_pages_after_an_id_and_estimated_counts(server, http, volume, table):
    url = ep.url(server.url, ep.QUERY, aligned_volume=volume, table_name=table)
    page = decode_frame(http.post(url, json={"limit": 5, "after_id": 20}).json())
    assert page["id"].tolist() == [21, 22, 23, 24, 25]
    for bad in ("20", True, 2.5):
        r = http.post(url, json={"limit": 5, "after_id": bad})
        assert r.status_code == 400 and "'after_id' must be an annotation id" in r.text
    count = ep.url(server.url, ep.QUERY_ESTIMATE, aligned_volume=volume, table_name=table)
    got = http.post(count, json={"filters": {"size": 121.0}}).json()
    assert got == {"count": 1, "exact": True, "sampled": None, "matched": None}
