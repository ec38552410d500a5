"""Item 9: size caps, configurable in settings, each refused with a sentence and stated in the
README's settings table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from anno_core.errors import InvalidArgument, ValidationFailed
from anno_core.settings import Settings
from anno_core.wire import endpoints as ep
from tests.conftest import synapse
from tests.hostile.conftest import check_refusal

ROOT = Path(__file__).resolve().parents[2]
LIMITS = ("max_body_mb", "max_text_length", "max_metadata_length")


def test_a_text_cell_over_the_cap_is_refused_by_line(client):
    client.create_table("tags", "bound_tag", "caps [pytest]", [4, 4, 40])
    cap = Settings().max_text_length
    rows = [{"pt": {"position": [1, 2, 3]}, "tag": t} for t in ("a", "x" * cap, "y" * (cap + 1))]
    with pytest.raises(ValidationFailed, match="longer than 100,000 characters") as err:
        client.post_annotation("tags", rows)
    problem = err.value.report.errors.iloc[0]
    assert (problem["line"], problem["kind"]) == (3, "text_too_long")
    assert client.post_annotation("tags", rows[:2]) == [1, 2]


def test_the_caps_are_settings(embedded_client):
    client = embedded_client(max_text_length=20, max_metadata_length=30)
    client.create_table("tags", "bound_tag", "caps [pytest]", [4, 4, 40])
    csv = b"tag,pt_position\n" + b"x" * 21 + b",1 2 3\n"
    with pytest.raises(ValidationFailed, match="longer than 20 characters"):
        client.ingest_csv("tags", csv)
    with pytest.raises(InvalidArgument, match="at most 30"):
        client.update_metadata("tags", description="d" * 31)
    with pytest.raises(InvalidArgument, match="at most 30"):
        client.create_table("t2", "bound_tag", "d" * 31, [4, 4, 40])


def test_a_body_over_the_cap_is_413_even_with_a_key_nobody_reads(own_server):
    srv = own_server(ANNO_MAX_BODY_MB="1", ANNO_MAX_TEXT_LENGTH="20")
    client = srv.connect(aligned_volume="v")
    client.create_table("syn", "synapse", "caps [pytest]", [4, 4, 40])
    client.create_table("tags", "bound_tag", "caps [pytest]", [4, 4, 40])
    url = ep.url(srv.url, ep.ANNOTATIONS, aligned_volume="v", table_name="syn")
    auth = {"Authorization": f"Bearer {srv.tokens['admin']}"}
    big = json.dumps({"annotations": [synapse()], "junk": "x" * (2 * 1024 * 1024)})
    body = check_refusal(requests.post(url, data=big, headers=auth), 413)
    assert "larger than 1 MB" in body["message"] and "ANNO_MAX_BODY_MB" in body["message"]
    chunks = (big[i : i + 65536].encode() for i in range(0, len(big), 65536))  # no length
    check_refusal(requests.post(url, data=chunks, headers=auth), 413)
    small = {"annotations": [synapse()], "junk": "x" * 1000}
    assert requests.post(url, json=small, headers=auth).json() == [1]
    tags = ep.url(srv.url, ep.ANNOTATIONS, aligned_volume="v", table_name="tags")
    long = {"annotations": [{"pt": {"position": [1, 2, 3]}, "tag": "x" * 21}]}
    body = check_refusal(requests.post(tags, json=long, headers=auth), 422)
    assert "longer than 20 characters" in body["message"]
    assert client.get_annotation_count("syn") == 1 and client.get_annotation_count("tags") == 0


def test_the_default_body_cap_refuses_100_mb(server, volume):
    client = server.connect(aligned_volume=volume)
    client.create_table("syn", "synapse", "caps [pytest]", [4, 4, 40])
    url = ep.url(server.url, ep.ANNOTATIONS, aligned_volume=volume, table_name="syn")
    head = b'{"annotations": [], "unknown": "'
    chunk = b"x" * (1024 * 1024)

    def stream():
        yield head
        for _ in range(100):
            yield chunk
        yield b'"}'

    r = requests.post(
        url,
        data=stream(),
        headers={"Authorization": f"Bearer {server.tokens['admin']}"},
        timeout=120,
    )
    check_refusal(r, 413)
    assert client.get_annotation_count("syn") == 0


def test_the_readme_states_every_cap_with_its_default():
    readme = (ROOT / "README.md").read_text()
    for name in LIMITS:
        row = re.search(rf"^\| `ANNO_{name.upper()}` \| `(\d+)` \|", readme, re.MULTILINE)
        assert row, name
        assert int(row.group(1)) == Settings.model_fields[name].default, name
    assert "## Limits and refusals" in readme
