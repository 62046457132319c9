"""Input limits, set by environment variables so a deployment can tune them."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from studio.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    max_audio_seconds: float = 600.0  # STUDIO_MAX_AUDIO_SECONDS: longest audio accepted
    max_text_chars: int = 2000  # STUDIO_MAX_TEXT_CHARS: longest text accepted for synthesis

    @classmethod
    def from_env(cls) -> "Limits":
        try:
            return cls(
                max_audio_seconds=float(os.environ.get("STUDIO_MAX_AUDIO_SECONDS", cls.max_audio_seconds)),
                max_text_chars=int(os.environ.get("STUDIO_MAX_TEXT_CHARS", cls.max_text_chars)),
            )
        except ValueError as error:
            raise ConfigError(f"STUDIO_MAX_AUDIO_SECONDS / STUDIO_MAX_TEXT_CHARS must be numbers: {error}") from None


# The environment variable behind each upload limit; messages name it so a deployer knows what to raise.
UPLOAD_ENV = {
    "max_upload_mb": "STUDIO_MAX_UPLOAD_MB",
    "max_files": "STUDIO_MAX_UPLOAD_FILES",
    "max_clip_seconds": "STUDIO_MAX_CLIP_SECONDS",
    "max_total_seconds": "STUDIO_MAX_TOTAL_AUDIO_SECONDS",
    "max_systems": "STUDIO_MAX_SYSTEMS",
    "max_unzipped_mb": "STUDIO_MAX_UNZIPPED_MB",
    "max_zip_ratio": "STUDIO_MAX_ZIP_RATIO",
    "run_ttl_hours": "STUDIO_RUN_TTL_HOURS",
}


@dataclass(frozen=True)
class UploadLimits:
    """What one browser upload and run may hold (Evaluate tab, "Your data"; listening-test zips)."""

    max_upload_mb: float = 200.0  # STUDIO_MAX_UPLOAD_MB: size of the uploaded file(s) as sent
    max_files: int = 500  # STUDIO_MAX_UPLOAD_FILES: audio files in one upload
    max_clip_seconds: float = 60.0  # STUDIO_MAX_CLIP_SECONDS: longest single clip
    max_total_seconds: float = 1800.0  # STUDIO_MAX_TOTAL_AUDIO_SECONDS: all clips together
    max_systems: int = 3  # STUDIO_MAX_SYSTEMS: systems compared in one run
    max_unzipped_mb: float = 1024.0  # STUDIO_MAX_UNZIPPED_MB: an archive's members, uncompressed
    max_zip_ratio: float = 200.0  # STUDIO_MAX_ZIP_RATIO: uncompressed / compressed size of any member (zip bombs)
    run_ttl_hours: float = 168.0  # STUDIO_RUN_TTL_HOURS: a browser run and its uploads are deleted after this

    @classmethod
    def from_env(cls) -> "UploadLimits":
        values = {}
        for field in fields(cls):
            name = UPLOAD_ENV[field.name]
            raw = os.environ.get(name)
            if raw is None:
                continue
            try:
                value = int(raw) if field.type == "int" else float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a {'whole ' if field.type == 'int' else ''}number; got {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive; got {raw!r}")
            values[field.name] = value
        return cls(**values)

    def exceeded(self, field: str, what: str) -> str:
        """The message for a limit that was hit: what happened, the limit and the variable that sets it."""
        return f"{what}; the limit is {getattr(self, field):g} (set {UPLOAD_ENV[field]} to change it)"
