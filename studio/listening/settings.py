"""Where listening tests keep their data, and who may administer them, from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.errors import ConfigError


@dataclass(frozen=True)
class ListeningSettings:
    data_dir: Path = Path("data")  # STUDIO_DATA_DIR: audio samples, synthesis cache, the SQLite file
    database_url: str = ""  # STUDIO_DATABASE_URL: any SQLAlchemy URL; '' = SQLite (WAL) in data_dir
    admin_token: str | None = None  # STUDIO_ADMIN_TOKEN: needed to create/close/export/delete; None = local mode

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < 8:
            raise ConfigError("STUDIO_ADMIN_TOKEN is shorter than 8 characters; use a long random value")

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'studio.db').resolve()}"

    @property
    def local_mode(self) -> bool:
        """True when no admin token is set: whoever opens the app may administer tests."""
        return self.admin_token is None

    @classmethod
    def from_env(cls) -> "ListeningSettings":
        return cls(
            data_dir=Path(os.environ.get("STUDIO_DATA_DIR", "data")),
            database_url=os.environ.get("STUDIO_DATABASE_URL", ""),
            admin_token=os.environ.get("STUDIO_ADMIN_TOKEN") or None,
        )
