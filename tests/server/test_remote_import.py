"""The HTTP client loads no engine: importing and building the remote backend imports
neither SQLAlchemy nor our engine or server, nor emannotationschemas (which would bring in
SQLAlchemy through geoalchemy2). Checked in a fresh interpreter, where nothing else has
imported them already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("sqlalchemy", "geoalchemy2", "emannotationschemas", "anno_core.engine", "anno_core.server")

PROGRAM = """
import json, sys
import anno_core
from anno_core.remote.backend import RemoteBackend
from anno_core.settings import Settings

RemoteBackend(Settings(backend="server", server_address="http://127.0.0.1:9", aligned_volume="v"))
anno_core.connect(backend="server", server_address="http://127.0.0.1:9", aligned_volume="v")
loaded = lambda: sorted(
    m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {heavy!r})
)
before = loaded()
from anno_core.schemas import schema_spec
schema_spec("synapse")  # reading a schema loads emannotationschemas, on first need only
print(json.dumps({{"before": before, "after": loaded()}}))
"""


def test_importing_and_building_the_remote_backend_loads_no_engine():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNO_")}
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(heavy=HEAVY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == []
    assert "emannotationschemas" in got["after"]  # the check above can see a load
