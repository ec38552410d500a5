"""Collect another suite's tests into a tests/server module, to run them remotely.

Test functions are rebound under ``test_<module>__<name>``; fixtures defined in those modules
come along (except ``remote_fixtures``, whose tests/server versions must win). pytest then
resolves ``client``/``make_client`` from tests/server/conftest.py: the remote ones.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from _pytest.fixtures import FixtureFunctionDefinition


def collect(
    namespace: dict[str, Any],
    modules: tuple[ModuleType, ...],
    excluded: dict[str, str],
    remote_fixtures: frozenset[str] = frozenset(),
) -> None:
    """Bind ``modules``' tests (less ``excluded``, name -> why) into ``namespace``."""
    for module in modules:
        prefix = module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        for name, obj in vars(module).items():
            if isinstance(obj, FixtureFunctionDefinition):
                if name not in remote_fixtures:
                    namespace[name] = obj
            elif name.startswith("test_") and callable(obj) and name not in excluded:
                namespace[f"test_{prefix}__{name.removeprefix('test_')}"] = obj
