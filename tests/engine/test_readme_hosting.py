"""The README's "Hosting the dashboard for a lab" names only settings that exist, and the
[auth] keys the dashboard checks for."""

from __future__ import annotations

import re
from pathlib import Path

from anno_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Hosting the dashboard for a lab")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def test_every_setting_the_hosting_section_names_exists():
    named = set(re.findall(r"ANNO_[A-Z_]+", _section()))
    fields = {f"ANNO_{name.upper()}" for name in Settings.model_fields}
    assert named and named <= fields, named - fields
    for must in ("ANNO_DASHBOARD_AUTH", "ANNO_DASHBOARD_IDLE_MINUTES"):
        assert must in named
    for mode in Settings.model_fields["dashboard_auth"].annotation.__args__:
        assert f"ANNO_DASHBOARD_AUTH={mode}" in _section()


def test_the_hosting_section_shows_every_auth_key_the_dashboard_needs():
    source = (ROOT / "ui" / "signin.py").read_text()
    keys = re.search(r"AUTH_KEYS = \(([^)]*)\)", source).group(1)
    for key in re.findall(r'"(\w+)"', keys):
        assert f"\n     {key} = " in _section(), key
