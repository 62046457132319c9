"""espeak-ng: rule-based formant synthesis, the classic baseline (Debian package `espeak-ng`).

Text goes in on stdin (never as an argument), audio comes back on stdout as it is made;
time to first audio is when the first samples arrive on the pipe.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from studio.adapters.base import TTSAdapter
from studio.types import AdapterInfo
from studio.errors import ConfigError, ModelUnavailable
from studio.text import spoken_form
from studio.timing import StageTimer

WAV_HEADER_BYTES = 44  # espeak-ng --stdout writes a canonical 44-byte PCM header


@dataclass(frozen=True)
class EspeakOptions:
    voice: str = "en-us"  # espeak-ng voice name
    words_per_minute: int = 175
    pitch: int = 50  # 0-99

    def __post_init__(self):
        if not self.voice.replace("-", "").replace("+", "").isalnum():
            raise ConfigError(f"voice must be an espeak-ng voice name such as en-us; got {self.voice!r}")
        if not 80 <= self.words_per_minute <= 450:
            raise ConfigError(f"words_per_minute must be between 80 and 450; got {self.words_per_minute}")
        if not 0 <= self.pitch <= 99:
            raise ConfigError(f"pitch must be between 0 and 99; got {self.pitch}")


INFO = AdapterInfo(
    id="espeak-ng",
    task="tts",
    label="eSpeak NG (formant baseline)",
    options_type=EspeakOptions,
    family="eSpeak NG",
    decoding="rule-based formant synthesis",
    model="espeak-ng from Debian, en-us voice, 22.05 kHz",
    not_measured=("text analysis and synthesis run in one process",),
    kind="rules",
    size_mb=11.8,  # /usr/lib/x86_64-linux-gnu/espeak-ng-data
    licence="GPL-3.0-or-later",
)


def espeak_missing() -> str | None:
    if shutil.which("espeak-ng"):
        return None
    return "the espeak-ng program is not installed (Debian/Ubuntu: apt-get install espeak-ng)"


class EspeakAdapter(TTSAdapter):
    info = INFO

    def __init__(self, device: str = "cpu"):
        super().__init__("cpu")
        self.binary: str | None = None

    @property
    def loaded(self) -> bool:
        return self.binary is not None

    def _load(self) -> None:
        reason = espeak_missing()
        if reason:
            raise ModelUnavailable(reason)
        self.binary = shutil.which("espeak-ng")

    def unload(self) -> None:
        self.binary = None

    def front_end(self, text: str) -> str:
        return spoken_form(text)

    def _stream(self, text: str, options: EspeakOptions, timer: StageTimer) -> Iterator[np.ndarray]:
        command = [self.binary, "-v", options.voice, "-s", str(options.words_per_minute),
                   "-p", str(options.pitch), "--stdout"]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as process:
            process.stdin.write(text.encode("utf-8"))
            process.stdin.close()
            header = _read_exactly(process.stdout, WAV_HEADER_BYTES)
            if len(header) < WAV_HEADER_BYTES or header[:4] != b"RIFF":
                error = process.stderr.read().decode("utf-8", "replace").strip()
                raise ConfigError(f"espeak-ng produced no audio: {error or 'unknown voice?'}")
            self.sample_rate = struct.unpack_from("<I", header, 24)[0]
            leftover = b""
            while chunk := os.read(process.stdout.fileno(), 1 << 15):
                data = leftover + chunk
                usable = len(data) - len(data) % 2
                leftover = data[usable:]
                if usable:
                    yield np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
            process.wait()


def _read_exactly(stream, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := stream.read(size - len(data))):
        data += chunk
    return data
