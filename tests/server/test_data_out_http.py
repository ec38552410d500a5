"""Data out over HTTP: signed download links, streamed exports, versions, statuses."""

from __future__ import annotations

import io
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import requests

from anno_core.engine import db
from anno_core.engine.writes import LocalBackend
from anno_core.export.options import ExportOptions
from anno_core.settings import Settings
from tests.conftest import synapse


def _auth(server, user="admin"):
    return {"Authorization": f"Bearer {server.tokens[user]}"}


def test_a_signed_link_downloads_without_a_token_and_reports_progress(server, client, volume):
    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40], read_permission="PRIVATE")
    client.post_annotation("syn", [synapse(i) for i in range(30)])
    link = client.export_link("syn", format="parquet", filters={"size": 125.0})
    assert link["url"].startswith(server.url + "/annotation/api/v2/aligned_volume/")
    assert "token" not in link["url"] and server.tokens["admin"] not in link["url"]
    assert client.export_progress(link["link_id"]) is None  # not started yet

    r = requests.get(link["url"], timeout=30)  # a browser: no Authorization, no cookie
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="syn.parquet"'
    frame = pq.read_table(io.BytesIO(r.content)).to_pandas()
    assert frame["size"].tolist() == [125.0]
    done = client.export_progress(link["link_id"])
    assert done["state"] == "done" and done["rows"] == done["total"] == 1
    # Another user cannot read the progress of my link.
    assert server.connect("mia", aligned_volume=volume).export_progress(link["link_id"]) is None


def test_an_altered_or_expired_link_is_refused(server, client):
    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse(0)])
    url = client.export_link("syn", filters={"size": 120.0})["url"]
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query))
    for change in ({"filters": "{}"}, {"user": "2"}, {"format": "csv"}, {"sig": "0" * 64}):
        forged = parts._replace(query=urllib.parse.urlencode({**params, **change})).geturl()
        r = requests.get(forged, timeout=30)
        assert r.status_code == 401 and "not valid" in r.json()["message"], change
    # A link whose time ran out: made by the engine the server uses, valid 0 seconds.
    expired = params | {"expires": str(int(time.time()) - 1)}
    r = requests.get(parts._replace(query=urllib.parse.urlencode(expired)).geturl(), timeout=30)
    assert r.status_code == 401  # the expiry is signed too: changing it breaks the signature


def test_an_expired_link_says_so(server, client):
    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40])
    # The server's own database, opened here: any process on it issues links the server takes.
    storage = LocalBackend(Settings(data_dir=server.data_dir))
    try:
        admin = storage.as_user(storage.users.get("admin"))
        vol = client.aligned_volume_name
        link = admin.signed_link(vol, "syn", ExportOptions.make(), seconds=-1)
    finally:
        db.dispose(storage.url)
    r = requests.get(server.url + link["url"], timeout=30)
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_export_with_a_token_streams_and_bad_input_is_a_4xx(server, client, volume):
    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse(i) for i in range(5)])
    base = f"{server.url}/annotation/api/v2/aligned_volume/{volume}/table/syn"
    r = requests.post(base + "/export", json={"format": "csv"}, headers=_auth(server), timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0].startswith('"id","ctr_pt_position_x"')
    assert len(r.text.splitlines()) == 6
    assert requests.post(base + "/export", json={}, timeout=30).status_code == 401
    cases = [
        ({"format": "xlsx"}, 400, "Unknown export format"),
        ({"version": "v9"}, 404, "has no version"),
        ({"timestamp": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, 400, "future"),
        ({"filters": {"colour": 1}}, 400, "has no column 'colour'"),
        ({"colour": 1}, 400, "Unknown export option 'colour'"),
    ]
    for body, status, words in cases:
        r = requests.post(base + "/export", json=body, headers=_auth(server), timeout=30)
        assert r.status_code == status and words in r.json()["message"], body
    q = requests.post(
        base + "/query",
        json={"timestamp": "2999-01-01T00:00:00"},
        headers=_auth(server),
        timeout=30,
    )
    assert q.status_code == 400 and "future" in q.json()["message"]


def test_versions_over_http(server, volume):
    base = f"{server.url}/annotation/api/v2/aligned_volume/{volume}/versions"
    made = requests.post(
        base, json={"name": "v1", "description": "why"}, headers=_auth(server), timeout=30
    )
    assert made.status_code == 201 and made.json()["number"] == 1
    assert requests.get(base, headers=_auth(server), timeout=30).json()[0]["name"] == "v1"
    r = requests.get(base + "/nope", headers=_auth(server), timeout=30)
    assert r.status_code == 404 and r.json()["error"] == "version_not_found"
    r = requests.delete(base + "/v1", headers=_auth(server, "olivia"), timeout=30)
    assert r.status_code == 403
    r = requests.post(base, json={"name": "v2"}, headers=_auth(server), timeout=30)
    assert r.status_code == 400 and "needs a description" in r.json()["message"]
    assert requests.delete(base + "/1", headers=_auth(server, "ada"), timeout=30).json() is True


def test_a_download_the_browser_drops_stops_the_export(server, client):
    import numpy as np
    import pandas as pd

    client.create_table("syn", "synapse", "d [pytest]", [4, 4, 40])
    n = 150_000  # ~18 MB of CSV: more than the queue and the socket buffers hold
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.random(n)})
    for p in ("pre_pt", "post_pt", "ctr_pt"):
        for a in "xyz":
            frame[f"{p}_position_{a}"] = rng.random(n) * 1000
    client.backend.insert_frame(client.aligned_volume_name, "syn", frame)
    link = client.export_link("syn", format="csv")
    with requests.get(link["url"], stream=True, timeout=30) as r:
        assert r.status_code == 200
        next(r.iter_content(1 << 16))  # the first bytes, then the tab is closed
    deadline = time.monotonic() + 30
    while (got := client.export_progress(link["link_id"]))["state"] == "running":
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    assert got["state"] == "failed" and "interrupted" in got["message"]
    assert got["rows"] < n == got["total"]
