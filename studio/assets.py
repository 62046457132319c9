"""The bundled examples in `assets/examples/` (made by `assets/make_examples.py`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EXAMPLES = ASSETS / "examples"


@dataclass(frozen=True)
class Recording:
    path: str
    text: str
    duration: float


@lru_cache(maxsize=1)
def example_recordings() -> tuple[Recording, ...]:
    manifest = EXAMPLES / "manifest.jsonl"
    if not manifest.exists():
        return ()
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return tuple(Recording(str(EXAMPLES / r["audio_filepath"]), r["text"], r["duration"]) for r in rows)


@lru_cache(maxsize=1)
def example_texts() -> tuple[str, ...]:
    path = EXAMPLES / "texts.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return tuple(line.strip() for line in lines if line.strip()) or ("The quick brown fox jumps over the lazy dog.",)
