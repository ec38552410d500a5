"""Settings are documented; the layer contracts hold; raise_for_status; versions."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

import anno_core
from anno_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"ANNO_{name.upper()}" in readme, name


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNO_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ANNO_ALIGNED_VOLUME", "minnie")
    client = anno_core.connect()
    client.create_table("t", "synapse", "d", [4, 4, 40])
    assert client.aligned_volume_name == "minnie"
    assert (tmp_path / "elsewhere" / "annotations.sqlite3").exists()
    assert client.get_tables(aligned_volume_name="minnie") == ["t"]


def test_the_database_is_the_one_asked_for(client, db_kind):
    engine = client.backend.engine
    assert engine.dialect.name == db_kind
    if db_kind == "sqlite":  # WAL lets the dashboard read while an upload writes
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_anno_core_does_not_import_streamlit():
    code = (
        "import sys, anno_core, anno_core.engine.writes, anno_core.client; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


def test_every_import_contract_is_kept():
    """The layers of pyproject.toml's import-linter contracts, checked as `make lint` does."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    n = len(contracts["contracts"])
    assert out.returncode == 0 and f"Contracts: {n} kept, 0 broken." in out.stdout, (
        out.stdout + out.stderr
    )


def _response(status: int, body: bytes, headers=None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.url = "http://127.0.0.1/x"
    r.reason = "Reason"
    r.headers.update(headers or {})
    return r


def test_raise_for_status(caplog):
    client = anno_core.AnnotationClient  # a static method, as on caveclient's client
    client.raise_for_status(_response(200, b"[]"))
    with pytest.raises(requests.HTTPError, match="table_exists|already exists"):
        client.raise_for_status(
            _response(
                409, b'{"error": "table_exists", "message": "A table called t already exists."}'
            )
        )
    with pytest.raises(requests.HTTPError, match="500 Server Error"):
        client.raise_for_status(_response(500, b"boom"))
    client.raise_for_status(_response(200, b"{}", {"Warning": "Table Owner Notice: careful"}))
    assert "careful" in caplog.text
