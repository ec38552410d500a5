"""Settings in one place: pydantic-settings, environment prefix ``ANNO_``.

Every field here is documented in README.md (a test checks that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_TEXT_LENGTH = 100_000
"""Default of `Settings.max_text_length` (the validator's default too)."""
MAX_METADATA_LENGTH = 10_000
MAX_BODY_MB = 64


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
    dashboard_auth: Literal["none", "token", "oidc"] = "none"
    dashboard_idle_minutes: float = Field(60.0, gt=0)
    signin_attempts_per_minute: int = Field(5, ge=1)
    signin_wait_seconds: float = Field(30.0, gt=0)
    # Limits (README: "Limits and refusals").
    max_body_mb: int = Field(MAX_BODY_MB, ge=1)
    max_text_length: int = Field(MAX_TEXT_LENGTH, ge=1)
    max_metadata_length: int = Field(MAX_METADATA_LENGTH, ge=1)
    allowed_origins: str = ""
    anyone_creates_volumes: bool = False

    def origins(self) -> set[str]:
        """The origins besides the server's own whose pages may write with the cookie."""
        return {o.strip().rstrip("/").lower() for o in self.allowed_origins.split(",") if o.strip()}

    neuroglancer_url: str = "https://neuroglancer-demo.appspot.com/"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        path = Path(self.data_dir).expanduser().resolve() / "annotations.sqlite3"
        return f"sqlite:///{path}"
