"""The adapter types a `studio.yaml` entry can name, and how each builds its adapter.

Builders import their engines when called, so reading a config never imports torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.adapters.base import Adapter
from studio.adapters.hf_options import CTCOptions, Seq2SeqOptions, SpeechT5Options, VitsOptions
from studio.adapters.torch_runtime import Placement
from studio.adapters.whisper_ct2 import WHISPER_WINDOW_SECONDS, WhisperOptions
from studio.types import AdapterInfo, Task


@dataclass(frozen=True)
class AdapterType:
    name: str  # the `type:` in studio.yaml
    task: Task
    family: str
    decoding: str
    options_type: type
    stages: tuple[str, ...]
    required_files: tuple[str, ...]  # files a local model folder must hold
    packages: tuple[tuple[str, str], ...]  # (import name, pip name) it needs
    build: Callable[[ModelEntry, AdapterInfo, Placement], Adapter]
    extra_keys: tuple[str, ...] = ()  # entry keys beyond the common ones
    input_window_seconds: float | None = None  # fixed input length the model pads every clip to
    kind: str = ""  # "autoregressive" or "non-autoregressive" (studio.types.KINDS), for tables and plot markers


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: a local folder (resolved against the config file) or a Hugging Face hub id."""

    location: str
    local: bool

    def __str__(self) -> str:
        return self.location


@dataclass(frozen=True)
class ModelEntry:
    """One allow-listed model, checked: the type exists, the options parse, device and dtype are known."""

    id: str
    type: AdapterType
    source: ModelSource
    label: str
    options: Any  # an instance of type.options_type holding this entry's default decoding options
    device: str = "auto"
    dtype: str = "auto"
    description: str = ""
    vocoder: ModelSource | None = None  # hf-speecht5 only
    speaker_embedding: Path | None = None  # hf-speecht5 only: .npy x-vector; None = zeros



def _faster_whisper(entry: ModelEntry, info: AdapterInfo, placement: Placement) -> Adapter:
    from studio.adapters.whisper_ct2 import FasterWhisperAdapter, compute_type_for

    # CTranslate2 runs int8 well on CPU, so "auto" keeps the bundled models' choice rather than float32.
    compute_type = compute_type_for(placement.device, "auto" if entry.dtype == "auto" else placement.dtype)
    return FasterWhisperAdapter(info, lambda: entry.source.location, placement.device, compute_type)


def _hf(module: str, adapter_class: str) -> Callable[[ModelEntry, AdapterInfo, Placement], Adapter]:
    def build(entry: ModelEntry, info: AdapterInfo, placement: Placement) -> Adapter:
        cls: Any = getattr(importlib.import_module(module), adapter_class)
        if entry.vocoder is not None:
            return cls(info, entry.source.location, placement, entry.vocoder.location, entry.speaker_embedding)
        return cls(info, entry.source.location, placement)

    return build


_TRANSFORMERS = (("torch", "torch"), ("transformers", "transformers"))

ADAPTER_TYPES: dict[str, AdapterType] = {t.name: t for t in (
    AdapterType(
        name="faster-whisper", task="asr", family="Whisper (CTranslate2)",
        decoding="autoregressive encoder-decoder, beam or greedy search", options_type=WhisperOptions,
        stages=("features", "encoder", "decoder", "other"), required_files=("model.bin", "config.json"),
        packages=(("faster_whisper", "faster-whisper"),), build=_faster_whisper,
        input_window_seconds=WHISPER_WINDOW_SECONDS, kind="autoregressive",
    ),
    AdapterType(
        name="hf-ctc", task="asr", family="CTC (transformers AutoModelForCTC)",
        decoding="non-autoregressive: one forward pass, greedy CTC", options_type=CTCOptions,
        stages=("features", "acoustic_model", "ctc_decode"), required_files=("config.json",),
        packages=_TRANSFORMERS, build=_hf("studio.adapters.hf_asr", "HFCTCAdapter"), kind="non-autoregressive",
    ),
    AdapterType(
        name="hf-seq2seq", task="asr", family="Encoder-decoder (transformers AutoModelForSpeechSeq2Seq)",
        decoding="autoregressive encoder-decoder, beam or greedy search", options_type=Seq2SeqOptions,
        stages=("features", "encoder", "decoder", "detokenize"), required_files=("config.json",),
        packages=_TRANSFORMERS, build=_hf("studio.adapters.hf_asr", "HFSeq2SeqAdapter"), kind="autoregressive",
    ),
    AdapterType(
        name="hf-vits", task="tts", family="VITS (transformers VitsModel)",
        decoding="non-autoregressive: text encoder, durations, flow and HiFi-GAN in one pass", options_type=VitsOptions,
        stages=("tokenize", "text_encoder", "duration_predictor", "flow", "vocoder"), required_files=("config.json",),
        packages=_TRANSFORMERS, build=_hf("studio.adapters.hf_tts", "HFVitsAdapter"), kind="non-autoregressive",
    ),
    AdapterType(
        name="hf-speecht5", task="tts", family="SpeechT5 + HiFi-GAN (transformers)",
        decoding="autoregressive: spectrogram frame by frame until the stop token, then a HiFi-GAN vocoder",
        options_type=SpeechT5Options, stages=("tokenize", "encoder", "decoder", "vocoder"),
        required_files=("config.json",), packages=(*_TRANSFORMERS, ("sentencepiece", "sentencepiece")),
        build=_hf("studio.adapters.hf_tts", "HFSpeechT5Adapter"), extra_keys=("vocoder", "speaker_embedding"),
        kind="autoregressive",
    ),
)}
