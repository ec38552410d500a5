"""The remote backend against what it cannot control: a real CAVE's ways, a lossy network.

A real CAVE cluster is reproduced by `fakes.FakeCave` (its error form, its missing version
route); lost answers and gateway errors in front of our own server by `fakes.FaultProxy`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import anno_core
from anno_core.errors import (
    AlreadySuperseded,
    InvalidArgument,
    NotAuthenticated,
    PermissionDenied,
    RemoteError,
    TableExists,
    TableNotFound,
)
from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.server.fakes import DROP, FakeCave, FaultProxy, cave_error


@pytest.fixture
def cave():
    fake = FakeCave()
    yield fake
    fake.close()


def _connect(url: str, token: str | None = "tok", **kw) -> anno_core.AnnotationClient:
    kw.setdefault("aligned_volume", "vol")
    client = anno_core.connect(backend="server", server_address=url, token=token, **kw)
    client.backend.backoff = 0.01
    return client


def test_no_network_in_the_constructor():
    client = _connect("http://127.0.0.1:9")  # nothing listens there
    assert client.connection_label.startswith("server http://127.0.0.1:9")
    with pytest.raises(RemoteError, match="did not answer"):
        client.backend.retries = 1
        client.get_tables()
    with pytest.raises(InvalidArgument, match="server address"):
        anno_core.connect(backend="server", server_address="127.0.0.1:8765")


def test_a_cave_server_is_recognised_and_has_no_version(cave):
    client = _connect(cave.url)
    assert client.server_version is None
    assert client.backend.is_ours() is False
    assert client.get_tables() == ["syn"]


def test_caves_500_wrapped_errors_become_the_matching_anno_errors(cave):
    client = _connect(cave.url)
    with pytest.raises(TableExists) as err:
        client.create_table("syn", "synapse", "d", [4, 4, 40])
    assert str(err.value) == "Table syn already exists."
    with pytest.raises(TableNotFound, match="table nope not found"):
        client.get_table_metadata("nope")
    cave.script[("POST", "/syn/annotations")] = [
        (500, cave_error("403 Forbidden: user 1 lacks write permission on syn")),
        (
            500,
            cave_error(
                "Annotation with ID 3 has already been superseded by annotation "
                "ID 4, update annotation ID 4 instead"
            ),
        ),
        (500, cave_error("something broke inside the engine")),
        (500, b"<html>Internal Server Error</html>"),
    ]
    with pytest.raises(PermissionDenied, match="lacks write permission"):
        client.post_annotation("syn", [synapse()])
    with pytest.raises(AlreadySuperseded, match="update annotation ID 4 instead"):
        client.post_annotation("syn", [synapse()])
    for words in ("something broke inside the engine", "Internal Server Error"):
        with pytest.raises(RemoteError, match=words) as err:
            client.post_annotation("syn", [synapse()])
        assert "Traceback" not in str(err.value) and "HTTP 500" in str(err.value)
    assert cave.rows == {}


def test_sends_user_id_as_text_and_track_target_id_updates_as_a_bool(cave):
    client = _connect(cave.url)
    client.create_table(
        "refs", "cell_type_reference", "d", [4, 4, 40], reference_table="syn", user_id=7
    )
    body = next(
        b
        for (m, p), b in zip(cave.calls, cave.bodies, strict=True)
        if m == "POST" and p.endswith("/table")
    )
    assert body["metadata"]["user_id"] == "7"
    assert body["metadata"]["table_metadata"] == {
        "reference_table": "syn",
        "track_target_id_updates": False,
    }


def test_gateway_errors_are_retried_and_client_errors_never(cave):
    client = _connect(cave.url)
    cave.script[("GET", "/table")] = [(503, {}), (502, {}), (504, {})]
    assert client.get_tables() == ["syn"]
    assert cave.calls.count(("GET", "/annotation/api/v2/aligned_volume/vol/table")) == 4
    cave.script[("GET", "/table")] = [(400, {"message": "bad"}), (503, {})]
    with pytest.raises(InvalidArgument, match="bad"):
        client.get_tables()
    assert cave.calls.count(("GET", "/annotation/api/v2/aligned_volume/vol/table")) == 5


def test_cave_lost_answer_after_the_rows_were_stored_is_not_sent_again(cave):
    client = _connect(cave.url)
    cave.script[("POST", "/syn/annotations")] = ["drop_after"]
    with pytest.raises(RemoteError, match="may have been stored; it was not sent again"):
        client.post_annotation("syn", [synapse(i) for i in range(3)])
    assert len(cave.rows) == 3  # stored once by the lost request, never twice
    assert (
        cave.calls.count(("POST", "/annotation/api/v2/aligned_volume/vol/table/syn/annotations"))
        == 1
    )


def test_cave_lost_answer_before_storing_is_sent_again_once(cave):
    client = _connect(cave.url)
    cave.script[("POST", "/syn/annotations")] = [DROP]
    assert client.post_annotation("syn", [synapse(i) for i in range(3)]) == [1, 2, 3]
    assert len(cave.rows) == 3


def test_cave_lost_update_answer_is_recovered_from_the_old_rows(cave):
    client = _connect(cave.url)
    ids = client.post_annotation("syn", [synapse(i) for i in range(2)])
    cave.script[("PUT", "/syn/annotations")] = ["drop_after"]
    mapping = client.update_annotation(
        "syn", [{"id": ids[0], "size": 1.0}, {"id": ids[1], "size": 2.0}]
    )
    assert mapping == {1: 3, 2: 4}
    assert len(cave.rows) == 4  # each update stored once


def test_cave_uploads_are_validated_here_first(cave):
    client = _connect(cave.url)
    frame = pd.DataFrame(
        {
            "pre_pt_position": [[1, 2, 3], [1, 2]],
            "post_pt_position": [[1, 2, 3]] * 2,
            "ctr_pt_position": [[1, 2, 3]] * 2,
            "size": [1, 2],
        }
    )
    with pytest.raises(anno_core.errors.ValidationFailed, match="line 2"):
        client.backend.insert_frame("vol", "syn", frame)
    assert cave.rows == {}
    frame.at[1, "pre_pt_position"] = [4, 5, 6]
    assert client.backend.insert_frame("vol", "syn", frame) == [1, 2]
    assert cave.rows[2]["pre_pt"] == {"position": [4.0, 5.0, 6.0]}


def test_token_comes_from_caveclients_files(cave, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    secrets = tmp_path / ".cloudvolume" / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "cave-secret.json").write_text(json.dumps({"token": "from-default"}))
    client = _connect(cave.url, token=None)
    client.get_tables()
    assert cave.auth[-1] == "Bearer from-default"
    host = cave.url.split("//")[1]
    (secrets / f"{host}-cave-secret.json").write_text(json.dumps({"token": "for-host"}))
    _connect(cave.url, token=None).get_tables()
    assert cave.auth[-1] == "Bearer for-host"
    (secrets / "cave-secret.json").unlink()
    (secrets / f"{host}-cave-secret.json").unlink()
    with pytest.raises(NotAuthenticated, match="ANNO_TOKEN"):
        _connect(cave.url, token=None).get_tables()


def test_a_redirect_is_refused_not_followed(cave):
    client = _connect(cave.url)
    cave.script[("GET", "/table")] = [(302, {}, {"Location": "https://login.example/"})]
    with pytest.raises(RemoteError, match="redirect to https://login.example/"):
        client.get_tables()


# -- our server behind a lossy network ----------------------------------------------------
@pytest.fixture
def proxy(server):
    fake = FaultProxy(server.url)
    yield fake
    fake.close()


def _frame_rows(n: int) -> pd.DataFrame:
    pts = np.arange(3 * n, dtype=float).reshape(n, 3)
    return pd.DataFrame(
        {
            "pre_pt_position": list(pts),
            "post_pt_position": list(pts + 1),
            "ctr_pt_position": list(pts + 2),
            "size": np.arange(n, dtype=float),
        }
    )


def test_answer_lost_after_commit_is_not_stored_twice(server, proxy, volume, make_client):
    make_client().create_table("syn", "synapse", "d", [4, 4, 40])
    client = _connect(proxy.url, token=server.tokens["admin"], aligned_volume=volume)
    is_frame_post = lambda m, p: m == "POST" and p.endswith("/frame")  # noqa: E731
    proxy.once(is_frame_post, "lose_answer")
    ids = client.backend.insert_frame(volume, "syn", _frame_rows(25_000))
    assert len(set(ids)) == 25_000
    assert make_client().get_annotation_count("syn") == 25_000
    checks = [s for s in proxy.seen if "/upload/" in s[1]]
    assert len(checks) == 1  # it asked before re-sending, and did not re-send
    assert sum(1 for s in proxy.seen if is_frame_post(s[0], s[1])) == 3


def test_gateway_error_before_storing_is_retried(server, proxy, volume, make_client):
    make_client().create_table("syn", "synapse", "d", [4, 4, 40])
    client = _connect(proxy.url, token=server.tokens["admin"], aligned_volume=volume)
    proxy.once(lambda m, p: m == "POST" and p.endswith("/annotations"), "503")
    proxy.once(lambda m, p: m == "PUT" and p.endswith("/annotations"), "lose_answer")
    ids = client.post_annotation("syn", [synapse(i) for i in range(3)])
    assert ids == [1, 2, 3]
    assert client.update_annotation("syn", {"id": 1, "size": 9.0}) == {1: 4}
    assert make_client().get_annotation_count("syn") == 4


def test_partial_upload_error_says_what_was_stored(server, volume, make_client):
    client = make_client()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    client.post_annotation("syn", [synapse(0, id=15_000)])  # batch 2 will collide on it
    frame = _frame_rows(30_000)
    frame["id"] = np.arange(1, 30_001)  # id 15,000 is on line 15,000, in batch 2
    with pytest.raises(anno_core.errors.ValidationFailed) as err:
        client.backend.insert_frame(volume, "syn", frame, upload_key="k1")
    message = str(err.value)
    assert "Rows 1 to 10000 of 30000 were stored" in message and "'k1'" in message
    assert err.value.details["stored_rows"] == 10_000
    assert err.value.report.errors.iloc[0]["line"] == 15_000
    assert client.get_annotation_count("syn") == 10_001


def test_the_columnar_route_is_ours_only(server, volume, make_client):
    client = make_client()
    client.create_table("syn", "synapse", "d", [4, 4, 40])
    assert client.backend.is_ours() and str(client.server_version) == anno_core.__version__
    url = ep.url(server.url, ep.FRAME, aligned_volume=volume, table_name="syn")
    assert url.endswith("/table/syn/frame")


def test_cave_frame_updates_go_as_nested_records(cave):
    client = _connect(cave.url)
    ids = client.post_annotation("syn", [synapse(i) for i in range(2)])
    frame = pd.DataFrame(
        {"id": ids, "size": [7.0, 8.0], "pre_pt_position": ["[1, 2, 3]", [4, 5, 6]]}
    )
    assert client.backend.update_frame("vol", "syn", frame) == {1: 3, 2: 4}
    put = next(b for (m, _), b in zip(cave.calls, cave.bodies, strict=True) if m == "PUT")
    assert put["annotations"] == [
        {"id": 1, "size": 7.0, "pre_pt": {"position": [1.0, 2.0, 3.0]}},
        {"id": 2, "size": 8.0, "pre_pt": {"position": [4.0, 5.0, 6.0]}},
    ]
