"""hibari: a 7.9 MB English voice distilled from Kokoro-82M's "af_heart", from `hibari-tts`.

Non-autoregressive: per sentence, the network predicts every frame's spectrum parameters in one
pass, and host-side DSP (pulse train, shaped noise, one inverse STFT) turns them into a 24 kHz
waveform. The three stages are timed apart: grapheme-to-phoneme ("g2p", hibari's own lexicon
and tagger), the network ("acoustic_model", timed around ONNX Runtime's `run`) and the DSP
("vocoder", the rest of `Hibari.from_ids`). Only the "heart" voice ships in the package; hibari
downloads its other voices on first use, which cannot work offline, so they are not offered.
hibari normalises numbers, currency and titles itself, so the text goes in as typed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from studio.adapters.base import TTSAdapter
from studio.errors import ConfigError, TextError
from studio.timing import StageTimer
from studio.types import AdapterInfo

VOICE = "heart"  # the one voice inside the wheel


@dataclass(frozen=True)
class HibariOptions:
    speed: float = 1.0  # 1 = the teacher's pace; 0.5 slow .. 2 fast
    seed: int | None = 0  # fixes the DSP noise so output repeats exactly; None = a fresh draw each time

    def __post_init__(self):
        if not 0.5 <= self.speed <= 2.0:
            raise ConfigError(f"speed must be between 0.5 and 2; got {self.speed}")
        if self.seed is not None and self.seed < 0:
            raise ConfigError(f"seed must be 0 or more (or none); got {self.seed}")


INFO = AdapterInfo(
    id="hibari-heart",
    task="tts",
    label="hibari heart (Kokoro-distilled, 7.9 MB)",
    options_type=HibariOptions,
    family="hibari (Kokoro distillation, ONNX Runtime + DSP)",
    decoding="non-autoregressive: all frames of a sentence in one network pass, then DSP synthesis",
    model="hibari-tts 0.2.1 voice 'heart' (distilled from Kokoro-82M af_heart), American English, female, 24 kHz",
    stages=("g2p", "acoustic_model", "vocoder"),
    description="A tiny student of Kokoro; runs on one CPU thread (hibari's default).",
    kind="non-autoregressive",
    size_mb=16.0,  # 7.9 MB network + 8.1 MB lexicons and G2P models
    licence="Apache-2.0",
)


class _TimedSession:
    """Forwards to hibari's ONNX Runtime session, timing `run` as the acoustic model."""

    def __init__(self, session, owner: "HibariAdapter"):
        self._session, self._owner = session, owner

    def run(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._session.run(*args, **kwargs)
        finally:
            self._owner.acoustic_seconds += time.perf_counter() - start

    def __getattr__(self, name):
        return getattr(self._session, name)


class HibariAdapter(TTSAdapter):
    info = INFO
    sample_rate = 24000

    def __init__(self, device: str = "cpu"):
        super().__init__("cpu")  # hibari builds a CPU-only session
        self.tts = None
        self.acoustic_seconds = 0.0

    @property
    def loaded(self) -> bool:
        return self.tts is not None

    def _load(self) -> None:
        from hibari import SAMPLE_RATE, Hibari

        tts = Hibari(voice=VOICE)
        _ = tts.g2p  # the G2P loads lazily on first use; load it now so it is not timed as synthesis
        tts.sess = _TimedSession(tts.sess, self)
        self.sample_rate = SAMPLE_RATE
        self.tts = tts

    def unload(self) -> None:
        self.tts = None

    def _stream(self, text: str, options: HibariOptions, timer: StageTimer) -> Iterator[np.ndarray]:
        # The same steps and noise draws as `Hibari.stream`, sentence by sentence, so the first
        # sentence is heard before the next is phonemised and the stages can be timed apart.
        rng = np.random.default_rng(options.seed)
        spoke = False
        for sentence in self.tts.split_sentences(text):
            with timer.stage("g2p"):
                phonemes = self.tts.phonemize(sentence)
            for chunk in phonemes:
                if not any(ch.isalpha() for ch in chunk):  # punctuation alone: hibari would voice a short hum
                    continue
                self.acoustic_seconds = 0.0
                start = time.perf_counter()
                audio = self.tts.from_ids(self.tts.ids(chunk), options.speed, rng)
                total = time.perf_counter() - start
                timer.add("acoustic_model", self.acoustic_seconds)
                timer.add("vocoder", total - self.acoustic_seconds)
                if len(audio):
                    spoke = True
                    yield audio
        if not spoke:
            raise TextError(f"hibari found nothing to pronounce in {text[:60]!r}; type words in English")
