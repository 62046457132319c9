"""Moonshine tiny (English) from `moonshine-voice`: an autoregressive encoder-decoder without a fixed window.

Whisper pads every clip to 30 s, so its encoder costs the same for a 2 s clip as for a 30 s one;
Moonshine's encoder runs on the clip as it is, so its cost grows with the clip. The package
runs the model through its own C library (ONNX Runtime inside), which also splits the audio
at pauses with its voice-activity detector and decodes each piece; all of it is one C call.
Version 0.0.73 is pinned: it is the last that ships the English weights inside the wheel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.adapters.base import ASRAdapter
from studio.errors import ModelUnavailable
from studio.timing import StageTimer
from studio.types import AdapterInfo


@dataclass(frozen=True)
class MoonshineOptions:
    """Moonshine's Python API takes no decoding options for offline transcription: greedy search inside its C library."""


INFO = AdapterInfo(
    id="moonshine-tiny-en",
    task="asr",
    label="Moonshine tiny (English, no 30 s window)",
    options_type=MoonshineOptions,
    family="Moonshine (ONNX Runtime, C library)",
    decoding="autoregressive encoder-decoder, greedy; the encoder runs on the clip's own length",
    model="Moonshine tiny-en, 27 M params, .ort weights bundled in moonshine-voice 0.0.73",
    stages=("transcribe",),
    not_measured=("voice-activity segmentation, encoder and decoder (all inside moonshine's one C call)",),
    description="Useful Sensors' Moonshine tiny: English only; cased and punctuated output.",
    input_window_seconds=None,  # no padding: what it processes is the clip itself
    kind="autoregressive",
    parameters=27_100_000,  # Jeffries et al. 2024, "Moonshine", table 1
    size_mb=43.9,
    licence="MIT",
)


class MoonshineAdapter(ASRAdapter):
    info = INFO

    def __init__(self, device: str = "cpu"):
        super().__init__("cpu")  # the bundled C library runs ONNX Runtime on the CPU
        self.transcriber = None

    @property
    def loaded(self) -> bool:
        return self.transcriber is not None

    def _load(self) -> None:
        from moonshine_voice import ModelArch, Transcriber

        self.transcriber = Transcriber(str(moonshine_model_dir()), ModelArch.TINY)

    def unload(self) -> None:
        if self.transcriber is not None:
            self.transcriber.close()
        self.transcriber = None

    def _recognize(self, samples: np.ndarray, options: MoonshineOptions, timer: StageTimer) -> tuple[str, dict]:
        with timer.stage("transcribe"):
            transcript = self.transcriber.transcribe_without_streaming(samples.tolist(), 16000)
        lines = [line.text.strip() for line in transcript.lines if line.text.strip()]
        return " ".join(lines), {"segments": len(lines)}


def moonshine_model_dir():
    """The tiny-en folder inside the package; later versions download it instead, which cannot work offline."""
    from moonshine_voice import get_model_path

    path = get_model_path("tiny-en")
    if not (path / "encoder_model.ort").is_file():
        raise ModelUnavailable(f"{path} holds no Moonshine tiny-en weights; install moonshine-voice==0.0.73 exactly "
                               "(later versions download the English model at run time)")
    return path
