"""Input limits, set by environment variables so a deployment can tune them."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
