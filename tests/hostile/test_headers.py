"""Item 4: a notice can never make a table's metadata unreadable. What goes into the
``Warning`` header is cleaned and cut; notices and descriptions are capped with a sentence."""

from __future__ import annotations

import re

import pytest
import requests

from anno_core.errors import InvalidArgument
from anno_core.wire import endpoints as ep

NOTICE = "Private until publication; ask Agnes before using."


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("notice_text", "a\x00b", "cannot be stored"),
        ("notice_text", "x" * 10_001, "at most 10,000"),
        ("description", "x" * 10_001, "at most 10,000"),
        ("description", "ok\ud800", "cannot be stored"),
        ("flat_segmentation_source", "precomputed://x\x00", "cannot be stored"),
    ],
)
def test_metadata_text_is_capped_and_cleaned_with_a_sentence(client, field, value, words):
    args = {"description": "d", "notice_text": None, "flat_segmentation_source": None}
    args[field] = value
    with pytest.raises(InvalidArgument, match=words):
        client.create_table("t", "synapse", voxel_resolution=[4, 4, 40], **args)
    assert client.get_tables() == []
    client.create_table("t", "synapse", "d", [4, 4, 40])
    with pytest.raises(InvalidArgument, match=words):
        client.update_metadata("t", **{field: value})
    meta = client.get_table_metadata("t")
    assert meta[field] == ("d" if field == "description" else None)


def _store_notice(storage, volume: str, table: str, notice: str) -> None:
    """A notice written before the caps (or by hand), straight into the database."""
    from anno_core.engine import db

    meta = storage.meta(volume, table)
    with storage.engine.begin() as conn:
        conn.execute(
            db.tables_meta.update()
            .where(db.tables_meta.c.id == meta["id"])
            .values(notice_text=notice)
        )


@pytest.mark.parametrize(
    "notice",
    [
        "first line\r\nsecond line\x00 and a NUL",
        "bell\x07 and escape\x1b[31m and DEL\x7f",
        "x" * 100_000,
        "ü" * 70_000 + "漢字",
    ],
    ids=["crlf-nul", "controls", "100k", "non-latin"],
)
def test_any_stored_notice_leaves_the_metadata_readable(
    server, volume, hostile_server_storage, notice
):
    client = server.connect(aligned_volume=volume)
    client.create_table("t", "synapse", "d", [4, 4, 40], notice_text=NOTICE)
    _store_notice(hostile_server_storage, volume, "t", notice)
    url = ep.url(server.url, ep.TABLE, aligned_volume=volume, table_name="t")
    r = requests.get(url, headers={"Authorization": f"Bearer {server.tokens['admin']}"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["notice_text"] == notice  # the body holds all of it
    warning = r.headers["Warning"]
    assert warning.startswith("Table Owner Notice: ")
    assert len(warning) <= 1100
    assert not re.search(r"[\x00-\x1f\x7f]", warning)
    assert client.get_table_metadata("t")["notice_text"] == notice  # our client, no retries


def test_the_header_keeps_a_normal_notice_as_written(server, volume):
    client = server.connect(aligned_volume=volume)
    client.create_table("t", "synapse", "d", [4, 4, 40], notice_text=NOTICE)
    url = ep.url(server.url, ep.TABLE, aligned_volume=volume, table_name="t")
    r = requests.get(url, headers={"Authorization": f"Bearer {server.tokens['admin']}"})
    assert r.headers["Warning"] == f"Table Owner Notice: {NOTICE}"


def test_a_server_answering_an_unreadable_header_is_named_at_once_not_retried():
    """A real CAVE (or an older server) may still send a notice over 64 KB in a header: our
    client says so at once, instead of retrying for 15 s and calling the server silent."""
    import socket
    import threading

    from anno_core.errors import RemoteError
    from anno_core.remote.transport import Transport

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    hits: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            hits.append(1)
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nWarning: " + b"x" * 70_000 + b"\r\nContent-Length: 2\r\n\r\n{}"
            )
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(RemoteError, match="header line longer than HTTP clients read"):
            Transport(f"http://127.0.0.1:{port}", token="t").get(f"http://127.0.0.1:{port}/x")
        assert hits == [1]
    finally:
        listener.close()
