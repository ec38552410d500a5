"""Shared fixtures: real SQLite files in tmp_path, no ANNO_* leaking in from outside."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

import anno_core

SYNAPSE = {
    "pre_pt": {"position": [10, 20, 30]},
    "post_pt": {"position": [11, 21, 30]},
    "ctr_pt": {"position": [10.5, 20.5, 30]},
    "size": 120.0,
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ANNO_"):
            monkeypatch.delenv(key)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def make_client(data_dir) -> Callable[..., anno_core.AnnotationClient]:
    """connect() to the test's own SQLite file, optionally as another user."""

    def _make(**overrides) -> anno_core.AnnotationClient:
        overrides.setdefault("data_dir", data_dir)
        return anno_core.connect(**overrides)

    return _make


@pytest.fixture
def client(make_client) -> anno_core.AnnotationClient:
    return make_client()


@pytest.fixture
def synapse_table(client) -> str:
    client.create_table("syn", "synapse", "test synapses [pytest]", [4, 4, 40])
    return "syn"


def synapse(i: int = 0, **extra) -> dict:
    """A valid synapse record, shifted by ``i`` so records differ."""
    rec = {
        "pre_pt": {"position": [10 + i, 20, 30]},
        "post_pt": {"position": [11 + i, 21, 30]},
        "ctr_pt": {"position": [10.5 + i, 20.5, 30]},
        "size": 120.0 + i,
    }
    rec.update(extra)
    return rec
