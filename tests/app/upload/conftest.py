"""Fixtures of the Upload page tests."""

from __future__ import annotations

import numpy as np
import pytest

from ui import upload_jobs as uj


@pytest.fixture(autouse=True)
def _fresh_registry():
    uj.jobs.clear()  # each test starts as a fresh server process, as far as uploads go
    yield
    uj.jobs.clear()


@pytest.fixture
def syn(client):
    client.create_table("syn", "synapse", "synapses [pytest]", [4, 4, 40])
    return client


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "cells [pytest]", [4, 4, 40])
    rng = np.random.default_rng(3)
    ids = client.post_annotation(
        "cells",
        [
            {
                "pt": {
                    "position": [
                        float(v)
                        for v in rng.uniform([160_000, 100_000, 16_000], [250_000, 200_000, 27_000])
                    ]
                },
                "classification_system": "classical",
                "cell_type": "pyramidal",
            }
            for _ in range(30)
        ],
    )
    return client, ids
