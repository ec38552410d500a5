"""Settings in one place: pydantic-settings, environment prefix ``ANNO_``.

Every field here is documented in README.md (a test checks that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What `anno_core.connect()` reads from the environment (``ANNO_*``) or its overrides."""

    model_config = SettingsConfigDict(env_prefix="ANNO_", extra="forbid")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    aligned_volume: str = "local"
    user: str | None = None
    backend: Literal["embedded", "server"] = "embedded"
    server_address: str | None = None
    datastack: str | None = None
    token: str | None = None
    neuroglancer_url: str = "https://neuroglancer-demo.appspot.com/"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        path = Path(self.data_dir).expanduser().resolve() / "annotations.sqlite3"
        return f"sqlite:///{path}"
