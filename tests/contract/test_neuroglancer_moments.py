"""Neuroglancer sources at a moment, on every backend: what the package's own reader reads
from a source at T is exactly the rows live at T (around an insert, an update and a
delete, through the spatial index and through a filtered view held in memory), by_id
answers a row as it was then, the grant's moment cannot be changed, and layers name their
moment."""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
import warnings
from datetime import datetime, timedelta
from urllib.parse import unquote

import numpy as np
import pytest
import requests

# The package's reader needs tensorstore (requirements-dev.txt): missing, it fails here.
from neuroglancer.read_precomputed_annotations import AnnotationReader

from anno_core.errors import AnnoWarning, InvalidArgument
from anno_core.moments import parse_moment, wire
from anno_core.wire import endpoints as ep

TICK = timedelta(microseconds=1)


def _host(client, src: dict) -> str:
    if src["server"]:
        return src["server"]
    from anno_core.server.local import local_host

    return local_host(client.settings)  # this process's host: the same routes as a server


def _source_url(client, table: str, at=None, filters=None, version=None) -> str:
    vol = client.aligned_volume_name
    src = client.backend.neuroglancer_source(vol, table, filters, 3600, at, version)
    assert src["timestamp"] == wire(at)
    return ep.url(_host(client, src), ep.NG_SOURCE, grant=src["grant"], geometry="points")


def _read(url: str) -> dict[int, object]:
    """Every annotation of a source, by id, each found exactly once across the levels."""
    reader = AnnotationReader(url + "/")
    got: dict[int, object] = {}
    for level, spatial in enumerate(reader.spatial):
        shape = reader.metadata["spatial"][level]["grid_shape"]
        for cell in itertools.product(*(range(s) for s in shape)):
            for ann in spatial[cell]:
                assert int(ann.id) not in got, f"row {ann.id} twice"
                got[int(ann.id)] = ann
    labels = {p.id: list(p.enum_labels) for p in reader.properties}
    return {i: (tuple(a.point), labels["cell_type"][int(a.props[0])]) for i, a in got.items()}


def _expected(client, at, filters=None) -> dict[int, object]:
    """The rows a query at ``at`` returns (time travel, proven against the audit log)."""
    rows = client.query_annotations("cells", limit=1000, timestamp=at, filters=filters)
    pts = rows[["pt_position_x", "pt_position_y", "pt_position_z"]].to_numpy(np.float32)
    return {
        int(i): (tuple(p), t) for i, p, t in zip(rows["id"], pts, rows["cell_type"], strict=True)
    }


def _cell(i: int, kind: str) -> dict:
    return {"pt": {"position": [10 * i, 20 * i, 3 + i]}, "cell_type": kind,
            "classification_system": "x"}  # fmt: skip


def test_a_source_at_a_moment_serves_exactly_the_rows_live_then(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    first = client.post_annotation("cells", [_cell(i, k) for i, k in enumerate("aabb")])
    client.neuroglancer_state("cells")  # the index is built now: later rows are queued
    changed = client.update_annotation("cells", {"id": first[0], "cell_type": "c"})[first[0]]
    client.delete_annotation("cells", [first[2]])
    client.post_annotation("cells", [_cell(9, "a")])
    rows = client.query_annotations("cells", limit=100, include_invalid=True)
    stamps = sorted(
        {parse_moment(v) for v in rows["created"]}
        | {parse_moment(v) for v in rows["deleted"].dropna()}
    )
    assert len(stamps) == 4  # the insert, the update, the delete, the second insert
    moments = sorted({m for s in stamps for m in (s - TICK, s)})
    seen = set()
    for at in moments:
        want = _expected(client, at)
        assert _read(_source_url(client, "cells", at)) == want, at
        narrow = _expected(client, at, {"cell_type": "a"})  # a filtered view, held in memory
        assert _read(_source_url(client, "cells", at, {"cell_type": "a"})) == narrow, at
        seen.add(frozenset(want))
    assert len(seen) == 5  # nothing, then each write's rows: every step was looked at
    # the live source is what it was: the deleted row and the old version are gone
    assert set(_read(_source_url(client, "cells"))) == set(_expected(client, None))

    # by_id answers a row as it was at the moment, and nothing it did not have then
    before_delete = stamps[2] - TICK
    reader = AnnotationReader(_source_url(client, "cells", before_delete) + "/")
    assert tuple(reader.by_id[first[2]].point) == (20.0, 40.0, 5.0)  # deleted later
    with pytest.raises(KeyError):
        reader.by_id[first[0]]  # superseded by then
    assert tuple(reader.by_id[changed].point) == (0.0, 0.0, 3.0)
    with pytest.raises(KeyError):
        reader.by_id[int(max(rows["id"]))]  # stored later


def test_a_moment_before_the_table_or_in_the_future(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation("cells", [_cell(1, "a")])
    made = parse_moment(client.get_table_metadata("cells")["created"])
    with pytest.warns(AnnoWarning, match="had no rows at that moment"):
        state = client.neuroglancer_state("cells", timestamp=made - timedelta(hours=1))
    (layer,) = [lyr for lyr in state["layers"] if lyr["type"] == "annotation"]
    assert layer["name"].startswith("cells at ")
    assert _read(_source_url(client, "cells", made - timedelta(hours=1))) == {}
    future = datetime.utcnow() + timedelta(days=1)  # noqa: DTZ003 - naive UTC, as stored
    with pytest.raises(InvalidArgument, match="in the future"):
        client.neuroglancer_state("cells", timestamp=future)
    with pytest.raises(InvalidArgument, match="in the future"):
        client.neuroglancer_open_url("cells", timestamp=future)


def _tampered(token: str, moment: str) -> str:
    body, _, mac = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["m"] = moment
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


def test_a_grant_for_one_moment_cannot_be_changed_to_another(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation("cells", [_cell(1, "a")])
    client.delete_annotation("cells", [1])
    created = parse_moment(client.query_annotations("cells", include_invalid=True)["created"][0])
    vol = client.aligned_volume_name
    src = client.backend.neuroglancer_source(vol, "cells", None, 3600, created)
    host = _host(client, src)
    good = ep.url(host, ep.NG_SOURCE, grant=src["grant"], geometry="points") + "/info"
    assert requests.get(good, timeout=30).status_code == 200
    # the row was deleted before the index was first built: it is indexed all the same
    assert set(_read(_source_url(client, "cells", created))) == {1}
    for other in (wire(created - TICK), wire(datetime(2020, 1, 1)), None):
        token = _tampered(src["grant"], other)
        bad = ep.url(host, ep.NG_SOURCE, grant=token, geometry="points") + "/info"
        answer = requests.get(bad, timeout=30)
        assert answer.status_code == 401 and "not valid" in answer.json()["message"]
    # a version's name goes with its own moment only
    client.create_version("v1", "the first rows [pytest]")
    with pytest.raises(InvalidArgument, match="names"):
        client.backend.neuroglancer_source(vol, "cells", None, 3600, created, "v1")


def test_layers_and_the_opened_viewer_name_the_version(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    client.post_annotation("cells", [_cell(i, "a") for i in range(3)])
    made = client.create_version("v1", "three cells [pytest]")
    when = parse_moment(made["timestamp"])
    client.delete_annotation("cells", [1])
    name = f"cells at version v1 ({when:%Y-%m-%d %H:%M}"
    for inline in (False, True):
        state = client.neuroglancer_state("cells", version="v1", inline=inline)
        (layer,) = [lyr for lyr in state["layers"] if lyr["type"] == "annotation"]
        assert layer["name"].startswith(name) and layer["name"].endswith(" UTC)")
        if inline:
            assert len(layer["annotations"]) == 3  # the deleted row was live at v1
    url = client.neuroglancer_open_url("cells", version="v1")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    target = html.unescape(re.search(r'url=([^"]+)"', page.text).group(1))
    opened = json.loads(unquote(target.split("#!", 1)[1]))
    names = [lyr["name"] for lyr in opened["layers"] if lyr["type"] == "annotation"]
    assert names == [layer["name"]]
    live = client.neuroglancer_state("cells")
    assert [lyr["name"] for lyr in live["layers"] if lyr["type"] == "annotation"] == ["cells"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a moment after the table was made says nothing
        client.neuroglancer_state("cells", timestamp=when)
