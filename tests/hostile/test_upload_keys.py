"""Item 2: an upload key reused with other content is refused (409 over HTTP), naming the key
and when it was used; the same key with the same content still answers the first result."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from anno_core.engine import db, migrations
from anno_core.errors import Conflict
from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.hostile.conftest import check_refusal

FILE_A = b"tag,pt_position\na,1 2 3\nb,4 5 6\n"
FILE_B = b"tag,pt_position\nc,7 8 9\n"


@pytest.fixture
def tags(client) -> str:
    client.create_table("tags", "bound_tag", "keys [pytest]", [4, 4, 40])
    return "tags"


def test_a_key_reused_for_another_file_is_refused_and_stores_nothing(client, tags):
    key = f"daily-{uuid.uuid4().hex[:8]}"
    first = client.ingest_csv(tags, FILE_A, upload_key=key)
    assert client.ingest_csv(tags, FILE_A, upload_key=key) == first  # a retry: same answer
    with pytest.raises(Conflict, match=rf"upload key '{key}[^']*' was used on \d{{4}}-") as err:
        client.ingest_csv(tags, FILE_B, upload_key=key)
    assert "new key" in err.value.message
    assert client.get_annotation_count(tags) == 2
    assert [r["tag"] for r in client.get_annotation(tags, first)] == ["a", "b"]
    assert len(client.ingest_csv(tags, FILE_B, upload_key=key + "-2")) == 1


def test_a_key_reused_for_other_updates_is_refused(client, tags):
    ids = client.ingest_csv(tags, FILE_A)
    vol, key = client.aligned_volume_name, f"fix-{uuid.uuid4().hex[:8]}"
    done = client.backend.update_annotation(vol, tags, [{"id": ids[0], "tag": "A"}], upload_key=key)
    again = client.backend.update_annotation(
        vol, tags, [{"id": ids[0], "tag": "A"}], upload_key=key
    )
    assert again == done
    with pytest.raises(Conflict, match="was used on"):
        client.backend.update_annotation(vol, tags, [{"id": ids[1], "tag": "B"}], upload_key=key)
    frame = pd.DataFrame({"id": [ids[1]], "tag": ["B"]})
    with pytest.raises(Conflict, match="was used on"):
        client.backend.update_frame(vol, tags, frame, upload_key=key)
    assert client.get_annotation(tags, ids[1])[0]["tag"] == "b"


@pytest.mark.parametrize("method", ["POST", "PUT", "FRAME"])
def test_over_http_the_same_idempotency_key_with_another_body_is_409(server, http, volume, method):
    client = server.connect(aligned_volume=volume)
    client.create_table("syn", "synapse", "keys [pytest]", [4, 4, 40])
    [old] = client.post_annotation("syn", [synapse(0)])
    key = f"k-{uuid.uuid4().hex[:8]}"
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="syn")
    headers = {ep.IDEMPOTENCY_HEADER: key}
    if method == "POST":
        bodies = [{"annotations": [synapse(1)]}, {"annotations": [synapse(2)]}]
    elif method == "PUT":
        bodies = [
            {"annotations": [{"id": old, "size": 1.0}]},
            {"annotations": [{"id": old, "size": 2.0}]},
        ]
    else:
        url = ep.url(server.url, ep.FRAME, aligned_volume=volume, table_name="syn")
        frame = {
            "n": 1,
            "columns": [
                {"name": f"{p}_position", "dtype": "object", "values": [[1, 2, 3]]}
                for p in ("pre_pt", "post_pt", "ctr_pt")
            ],
        }
        other = {"n": 1, "columns": [dict(c, values=[[4, 5, 6]]) for c in frame["columns"]]}
        bodies = [{"frame": frame}, {"frame": other}]
    send = http.put if method == "PUT" else http.post
    first = send(url, json=bodies[0], headers=headers)
    assert first.status_code == 200, first.text
    again = send(url, json=bodies[0], headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    before = client.get_annotation_count("syn")
    body = check_refusal(send(url, json=bodies[1], headers=headers), 409)
    assert body["error"] == "conflict"
    assert f"'{key}'" in body["message"] and "was used on" in body["message"]
    assert client.get_annotation_count("syn") == before


def test_the_remote_backend_reusing_a_key_for_another_frame_gets_a_conflict(server, volume):
    client = server.connect(aligned_volume=volume)
    client.create_table("tags", "bound_tag", "keys [pytest]", [4, 4, 40])
    key = f"daily-{uuid.uuid4().hex[:8]}"
    ids = client.ingest_csv("tags", FILE_A, upload_key=key)
    assert client.ingest_csv("tags", FILE_A, upload_key=key) == ids
    with pytest.raises(Conflict, match=key):
        client.ingest_csv("tags", FILE_B, upload_key=key)
    assert client.get_annotation_count("tags") == 2


def test_a_database_made_before_digests_gets_the_column_and_its_keys_still_answer(tmp_path):
    """upload_keys without its digest column (an older layout) gains it when opened; a key
    stored then (no digest) still returns its stored ids."""
    import anno_core

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    client = anno_core.connect(database_url=url)
    client.create_table("tags", "bound_tag", "keys [pytest]", [4, 4, 40])
    ids = client.ingest_csv("tags", FILE_A, upload_key="old-key")
    db.dispose(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # back to the old layout, as an earlier version made it
        conn.exec_driver_sql("ALTER TABLE upload_keys DROP COLUMN digest")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE name = 'upload_keys_digest'")
    engine.dispose()
    again = anno_core.connect(database_url=url)
    with again.backend.engine.connect() as conn:
        assert "digest" in migrations.columns_of(conn, "upload_keys")
    assert again.ingest_csv("tags", FILE_A, upload_key="old-key") == ids
    assert again.get_annotation_count("tags") == 2
    db.dispose(url)


def test_status_of_a_key_still_answers_without_content(server, volume):
    client = server.connect(aligned_volume=volume)
    client.create_table("syn", "synapse", "keys [pytest]", [4, 4, 40])
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="syn")
    headers = {
        ep.IDEMPOTENCY_HEADER: "s1",
        "Authorization": f"Bearer {server.tokens['admin']}",
    }
    assert requests.post(url, json={"annotations": [synapse()]}, headers=headers).json() == [1]
    status = ep.url(server.url, ep.UPLOAD, aligned_volume=volume, table_name="syn", key="s1")
    got = requests.get(status, headers=headers).json()
    assert got == {"stored": True, "result": [1]}
