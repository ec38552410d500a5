"""Versions: named moments of an aligned volume, usable wherever a timestamp is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from anno_core.errors import (
    Conflict,
    InvalidArgument,
    InvalidName,
    PermissionDenied,
    VersionNotFound,
)
from anno_core.moments import parse_moment
from tests.conftest import synapse


def test_a_version_names_a_moment_who_made_it_and_why(make_client, people, synapse_table):
    client = make_client()
    ids = client.post_annotation(synapse_table, [synapse(0), synapse(1)])
    before = datetime.now(UTC).replace(tzinfo=None)
    v1 = client.create_version("v1", "the rows of the 2024 paper")
    client.update_annotation(synapse_table, {"id": ids[0], "size": 1.0})
    client.post_annotation(synapse_table, [synapse(2)])
    assert v1["name"] == "v1" and v1["number"] == 1
    assert v1["description"] == "the rows of the 2024 paper"
    assert v1["created_by_name"] == client.whoami()["name"]
    assert parse_moment(v1["timestamp"]) >= before

    at_v1 = client.query_annotations(synapse_table, version="v1")
    assert list(at_v1["id"]) == ids and list(at_v1["size"]) == [120.0, 121.0]
    same = client.query_annotations(synapse_table, timestamp=v1["timestamp"])
    pd.testing.assert_frame_equal(at_v1, same)
    assert client.count_annotations(synapse_table, version=1) == 2  # by number too
    assert client.count_annotations(synapse_table) == 3

    # Another user names a past moment; both are listed, by number.
    mia = make_client(user=people["member"])
    v2 = mia.create_version("before-v1", "an earlier look", timestamp=before - timedelta(days=1))
    assert v2["number"] == 2 and v2["created_by_name"] == people["member"]
    assert [v["name"] for v in client.list_versions()] == ["v1", "before-v1"]
    assert client.get_version(2)["name"] == "before-v1"
    assert client.get_version("v1") == v1


def test_version_refusals_say_what_to_do(make_client, people, synapse_table):
    client = make_client()
    client.create_version("v1", "first")
    with pytest.raises(Conflict, match="already has a version called 'v1'"):
        client.create_version("v1", "again")
    with pytest.raises(VersionNotFound, match="has no version 'v11'.*Did you mean 'v1'"):
        client.get_version("v11")
    with pytest.raises(VersionNotFound, match="has no version 'nope'"):
        client.query_annotations(synapse_table, version="nope")
    soon = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(InvalidArgument, match="moment in the future"):
        client.create_version("later", "tomorrow's", timestamp=soon)
    with pytest.raises(InvalidName, match="version name '12' is not allowed"):
        client.create_version("12", "a number is a version's number")
    with pytest.raises(InvalidArgument, match="needs a description"):
        client.create_version("v2", "  ")
    assert [v["name"] for v in client.list_versions()] == ["v1"]  # nothing half-made


def test_only_an_admin_deletes_a_version_and_its_name_stays_taken(
    make_client, people, synapse_table
):
    owner = make_client(user=people["owner"])
    owner.create_version("v1", "first")
    owner.create_version("v2", "second")
    with pytest.raises(PermissionDenied, match="Only an admin may delete a version"):
        owner.delete_version("v1")
    admin = make_client(user=people["admin"])
    assert admin.delete_version("v1") is True
    assert [v["name"] for v in owner.list_versions()] == ["v2"]
    with pytest.raises(VersionNotFound, match="was deleted by an admin"):
        owner.get_version("v1")
    with pytest.raises(Conflict, match="deleted, its name kept"):
        owner.create_version("v1", "again")
    assert owner.create_version("v3", "third")["number"] == 3  # numbers are never reused
