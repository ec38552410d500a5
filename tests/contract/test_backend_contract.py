"""The Backend contract itself: both backends satisfy it, with the same signatures, and the
client reaches a backend only through it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from packaging.version import Version

import anno_core
from anno_core.backend import Backend
from anno_core.engine.writes import LocalBackend
from anno_core.remote.backend import RemoteBackend
from anno_core.settings import Settings

METHODS = sorted(
    {
        name
        for part in Backend.__mro__  # Backend and the protocols it extends (backend_data)
        if part.__module__.startswith("anno_core.")
        for name, member in vars(part).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
)


def _backend_uses(path: Path) -> set[str]:
    """Attribute names the module reads off anything called ``backend``."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else None
            name = owner.id if isinstance(owner, ast.Name) else name
            if name == "backend":
                used.add(node.attr)
    return used


def test_the_client_and_ingest_call_nothing_outside_the_contract():
    pkg = Path(anno_core.__file__).parent
    callers = [
        pkg / "client.py",
        pkg / "client_extras.py",
        pkg / "client_data.py",
        pkg / "client_curation.py",
        pkg / "client_neuroglancer.py",
        pkg / "client_ng_file.py",
        *sorted((pkg / "ingest").glob("*.py")),
    ]
    used = set().union(*(_backend_uses(p) for p in callers))
    assert {"insert_frame", "count_rows", "upload_result", "list_users"} <= used  # it looks
    assert used <= set(METHODS) | {"label"}, used - set(METHODS)
    assert all(inspect.getdoc(getattr(Backend, m)) for m in METHODS)  # one line each


@pytest.mark.parametrize("cls", [LocalBackend, RemoteBackend], ids=["embedded", "remote"])
@pytest.mark.parametrize("name", METHODS)
def test_each_backend_has_each_method_with_the_contracts_signature(cls, name):
    want = inspect.signature(getattr(Backend, name))
    got = inspect.signature(getattr(cls, name))
    assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
        (p.name, p.kind, p.default) for p in want.parameters.values()
    ], f"{cls.__name__}.{name}{got} differs from Backend.{name}{want}"


def test_each_backend_is_a_backend(client, backend_kind):
    assert isinstance(client.backend, Backend)
    expected = RemoteBackend if backend_kind == "remote" else LocalBackend
    assert type(client.backend) is expected
    assert client.aligned_volume_name == client.backend.default_volume()
    assert client.connection_label == client.backend.label and client.backend.label


def test_the_server_version_is_ours_on_our_server_and_none_embedded(client, backend_kind):
    if backend_kind == "remote":
        assert client.server_version == Version(anno_core.__version__)
    else:
        assert client.server_version is None


def test_a_client_needs_a_backend(tmp_path):
    class Half:  # some of the methods only
        def get_tables(self, volume: str) -> list[str]:
            return []

    with pytest.raises(TypeError, match="needs a Backend"):
        anno_core.AnnotationClient(Half(), Settings(data_dir=tmp_path))  # type: ignore[arg-type]
