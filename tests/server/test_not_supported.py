"""What a backend cannot do is a Backend method that raises NotSupported with a sentence, never
a missing method: a real CAVE (reproduced by `fakes.FakeCave`) cannot page through rows,
count a filtered view or the live rows, send a whole table or list its users, read a past
moment, keep our versions or export a table."""

from __future__ import annotations

import io

import pytest

import anno_core
from anno_core.backend import Backend
from anno_core.errors import NotSupported
from tests.conftest import synapse
from tests.server.fakes import FakeCave


@pytest.fixture
def cave_client():
    cave = FakeCave()
    cave.store([{"size": float(i)} for i in range(3)])
    client = anno_core.connect(
        backend="server", server_address=cave.url, token="tok", aligned_volume="vol"
    )
    yield client
    cave.close()


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.list_users(), "does not list its users"),
        (lambda c: c.get_live_count("syn"), "cannot count only the live ones"),
        (lambda c: c.count_annotations("syn", filters={"size": 1.0}), "cannot count the rows"),
        (lambda c: c.query_annotations("syn"), "only fetches rows by id"),
        (lambda c: c.query_annotations("syn", ids=[1], filters={"size": 1.0}), "by id"),
        (lambda c: c.get_point_frame("syn"), "cannot send a whole table"),
        (lambda c: c.backend.upload_result("vol", "syn", "k"), "does not say"),
        (lambda c: c.get_activity(), "does not show its audit log"),
        (lambda c: c.people(), "server's own machine"),
        (lambda c: c.query_annotations("syn", ids=[1], timestamp="2024-01-01"), "as they are now"),
        (lambda c: c.create_version("v1", "why"), "has no versions"),
        (lambda c: c.list_versions(), "has no versions"),
        (lambda c: c.query_annotations("syn", ids=[1], version="v1"), "has no versions"),
        (lambda c: c.delete_version("v1"), "has no versions"),
        (lambda c: c.export_table("syn", io.BytesIO()), "cannot send a whole table"),
        (lambda c: c.export_link("syn"), "cannot send a whole table"),
        (lambda c: c.export_progress("x"), "cannot send a whole table"),
    ],
)
def test_what_a_cave_cannot_do_is_refused_in_a_sentence(cave_client, call, words):
    assert isinstance(cave_client.backend, Backend)
    with pytest.raises(NotSupported, match=words) as err:
        call(cave_client)
    assert err.value.status == 501 and str(err.value).endswith(".")


def test_what_a_cave_can_do_instead(cave_client):
    page = cave_client.query_annotations("syn", ids=[3, 1], limit=10)
    assert page["id"].tolist() == [1, 3] and page["size"].tolist() == [0.0, 2.0]
    assert cave_client.get_annotation_count("syn") == 3  # every row, as CAVE counts


def test_our_server_does_what_a_cave_cannot(make_client):
    client = make_client()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    client.post_annotation("syn", [synapse(0), synapse(1)])
    assert client.count_annotations("syn", filters={"size": 121.0}) == 1
    assert client.get_live_count("syn") == 2
    assert "admin" in {u["name"] for u in client.list_users()}
    with pytest.raises(NotSupported, match="does not say what an earlier upload stored"):
        client.backend.upload_result(client.aligned_volume_name, "syn", "any-key")
