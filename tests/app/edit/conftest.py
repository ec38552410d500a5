"""Fixtures of the Edit page tests."""

from __future__ import annotations

import pytest

from tests.app.edit.support import CELL_TYPES
from tests.conftest import synapse


@pytest.fixture
def cells(client):
    client.create_table("cells", "cell_type_local", "Cells [pytest]", [4, 4, 40])
    client.post_annotation(
        "cells",
        [
            {
                "pt": {"position": [100 + i, 200, 30]},
                "classification_system": "aibs",
                "cell_type": CELL_TYPES[i % 4],
            }
            for i in range(60)
        ],
    )
    return "cells"


@pytest.fixture
def syn(client):
    client.create_table("syn", "synapse", "Synapses [pytest]", [4, 4, 40])
    client.post_annotation("syn", [synapse(i) for i in range(5)])
    return "syn"
