"""Neuroglancer over HTTP: signed sources act as their user (a private table is 403 to
everyone else, and stays so after its owner narrows it), answers any origin may read, the
package's viewer served with its MIME types, and the page that opens it."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import unquote

import requests

from anno_core.wire import endpoints as ep
from tests.conftest import synapse


def _auth(server, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[user]}"}


def _grant(server, volume: str, table: str, user: str, **body) -> requests.Response:
    url = ep.url(server.url, ep.NG_GRANT, aligned_volume=volume, table_name=table)
    return requests.post(url, json=body, headers=_auth(server, user), timeout=30)


def _source(server, grant: str, geometry: str = "lines") -> str:
    return ep.url(server.url, ep.NG_SOURCE, grant=grant, geometry=geometry)


def test_a_private_tables_source_is_403_to_others(server, volume, make_client):
    owner = make_client("olivia")
    owner.create_table("t", "synapse", "olivia's [pytest]", [4, 4, 40], read_permission="PRIVATE")
    owner.post_annotation("t", [synapse(i) for i in range(20)])
    for who in ("mia", "sam"):  # a group member and a stranger: no grant for them
        r = _grant(server, volume, "t", who)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "permission_denied"
    got = _grant(server, volume, "t", "olivia")
    assert got.status_code == 200
    base = _source(server, got.json()["grant"])
    info = requests.get(base + "/info", timeout=30)
    assert info.status_code == 200 and info.headers["access-control-allow-origin"] == "*"
    meta = info.json()
    assert meta["annotation_type"] == "LINE" and meta["dimensions"]["z"] == [4e-8, "m"]
    cell = requests.get(base + "/" + meta["spatial"][0]["key"] + "/0_0_0", timeout=30)
    assert cell.status_code == 200 and cell.headers["content-type"] == "application/octet-stream"

    # an edited grant (another user, another table) breaks the signature
    payload, _, mac = got.json()["grant"].partition(".")
    forged = _source(server, payload[:-2] + "AA." + mac)
    r = requests.get(forged + "/info", timeout=30)
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "*"


def test_a_grant_stops_working_when_its_user_loses_the_right(server, volume, make_client):
    owner = make_client("olivia")
    owner.create_table("g", "bound_tag", "shared [pytest]", [1, 1, 1], read_permission="GROUP")
    owner.post_annotation("g", [{"pt": {"position": [1, 2, 3]}, "tag": "a"}])
    got = _grant(server, volume, "g", "mia")  # mia shares olivia's group
    assert got.status_code == 200
    base = _source(server, got.json()["grant"], "points")
    assert requests.get(base + "/info", timeout=30).status_code == 200
    owner.update_metadata("g", read_permission="PRIVATE")
    r = requests.get(base + "/info", timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "permission_denied"
    version = "1"
    r = requests.get(f"{base}/{version}/spatial0/0_0_0", timeout=30)
    assert r.status_code == 403
    r = requests.get(f"{base}/{version}/by_id/1", timeout=30)
    assert r.status_code == 403


def test_a_schema_without_positions_and_bad_requests_are_refused_plainly(
    server, volume, make_client
):
    c = make_client("olivia")
    c.create_table("p", "bound_tag", "tags [pytest]", [1, 1, 1])
    c.create_table("ref", "simple_reference", "refs [pytest]", [1, 1, 1], reference_table="p")
    r = _grant(server, volume, "ref", "olivia")
    assert r.status_code == 400 and "no positions" in r.json()["message"]
    r = _grant(server, volume, "p", "olivia", filters={"nope": 1})
    assert r.status_code == 400 and "no column 'nope'" in r.json()["message"]
    grant = _grant(server, volume, "p", "olivia").json()["grant"]
    assert requests.get(_source(server, grant, "lines") + "/info", timeout=30).status_code == 404
    bad = requests.get(_source(server, grant, "points") + "/1/spatial0/zero", timeout=30)
    assert bad.status_code == 404


def test_the_viewer_is_served_with_its_own_mime_types(server):
    page = requests.get(server.url + "/v/ng/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    scripts = re.findall(r'src="([^"]+\.js)"', page.text)
    assert scripts
    js = requests.get(server.url + "/v/ng/" + scripts[-1], timeout=30)
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    from anno_core.server.viewer import static_dir

    wasm = next(static_dir().glob("*.wasm")).name
    r = requests.get(server.url + "/v/ng/" + wasm, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "application/wasm"
    assert requests.get(server.url + "/v/ng/../app.py", timeout=30).status_code == 404
    assert requests.get(server.url + "/v/other/index.html", timeout=30).status_code == 404
    with requests.get(server.url + "/events/ng?c=1", stream=True, timeout=30) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        assert next(events.iter_content(64)).startswith(b"retry:")


def test_the_open_page_sends_the_browser_to_the_viewer_with_the_table(server, volume, make_client):
    c = make_client("olivia")
    c.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    c.post_annotation(
        "cells",
        [
            {"pt": {"position": [i, i, 1]}, "cell_type": t, "classification_system": "x"}
            for i, t in enumerate(["basket", "pyr", "pyr"])
        ],
    )
    url = c.neuroglancer_open_url("cells", color_by="cell_type")
    assert url.startswith(server.url + "/neuroglancer/open/")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    target = unescape(re.search(r'content="0; url=([^"]+)"', page.text).group(1))
    assert target.startswith(server.url + "/v/ng/#!")
    state = json.loads(unquote(target.split("#!", 1)[1]))
    (layer,) = [lyr for lyr in state["layers"] if lyr["type"] == "annotation"]
    assert layer["source"].startswith("precomputed://" + server.url + "/neuroglancer/source/")
    assert "c_basket" in layer["shader"] and "c_pyr" in layer["shader"]
    assert state["dimensions"]["x"] == [4e-9, "m"]
    assert state["position"] == [1.0, 1.0, 1.0]  # the middle of the points


def test_a_grant_at_a_moment_refuses_what_is_no_moment(server, volume, make_client):
    owner = make_client("olivia")
    owner.create_table("m", "bound_tag", "moments [pytest]", [1, 1, 1])
    owner.post_annotation("m", [{"pt": {"position": [1, 2, 3]}, "tag": "a"}])
    for body, words in (
        ({"timestamp": "soon"}, "is not a moment"),
        ({"timestamp": "2999-01-01T00:00:00"}, "in the future"),
        ({"timestamp": "2001-01-01T00:00:00", "version": ["v1"]}, "a name or a number"),
        ({"version": "v1"}, "only with the moment it names"),
        ({"timestamp": "2001-01-01T00:00:00", "version": "nope"}, "nope"),
    ):
        r = _grant(server, volume, "m", "olivia", **body)
        assert r.status_code in (400, 404) and words in r.json()["message"], (body, r.text)
    got = _grant(server, volume, "m", "olivia", timestamp="2001-01-01T00:00:00")
    assert got.status_code == 200 and got.json()["timestamp"] == "2001-01-01T00:00:00.000000"
    info = requests.get(_source(server, got.json()["grant"], "points") + "/info", timeout=30)
    assert info.status_code == 200
    (cell,) = [s for s in info.json()["spatial"] if s["key"].endswith("spatial0")]
    raw = requests.get(
        _source(server, got.json()["grant"], "points") + "/" + cell["key"] + "/0_0_0", timeout=30
    ).content
    assert raw[:8] == b"\0" * 8  # no rows in 2001
