"""Whisper through faster-whisper (CTranslate2): tiny.en and base ship as PyPI packages.

faster-whisper hides its stages inside `transcribe`; a thin proxy around the CTranslate2
model times `encode` and `generate` where they are called, and a wrapper times the
log-mel feature extractor. Nothing is computed twice, so the adapter stays as fast as the
raw engine (see bench/adapter_overhead.py). What is left, "other", is faster-whisper's
Python around the model: tokenisation, segment splitting and fallback bookkeeping.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from studio.adapters.base import ASRAdapter
from studio.types import AdapterInfo
from studio.errors import ConfigError
from studio.timing import StageTimer


@dataclass(frozen=True)
class WhisperOptions:
    beam_size: int = 5  # 1 = greedy search
    temperature: float = 0.0  # 0 = deterministic; > 0 samples (no fallback schedule)
    language: str | None = "en"  # None = detect (multilingual models only)
    vad_filter: bool = False  # drop non-speech with Silero VAD before decoding
    batched: bool = False  # chunked batched transcription (faster-whisper's BatchedInferencePipeline): Silero
    # VAD cuts the recording into speech chunks of up to 30 s, decoded batch_size at a time, without timestamps
    # and without the previous chunk's text; instead of Whisper's sequential 30 s window loop
    batch_size: int = 8  # batched only: chunks decoded together

    def __post_init__(self):
        if not 1 <= self.beam_size <= 20:
            raise ConfigError(f"beam_size must be between 1 and 20; got {self.beam_size}")
        if not 1 <= self.batch_size <= 64:
            raise ConfigError(f"batch_size must be between 1 and 64; got {self.batch_size}")
        if self.batch_size != WhisperOptions.batch_size and not self.batched:
            raise ConfigError("batch_size sets how many VAD chunks the batched pipeline decodes together; "
                              "add batched=true (or leave batch_size out)")
        if not 0.0 <= self.temperature <= 1.0:
            raise ConfigError(f"temperature must be between 0 and 1; got {self.temperature}")


class _TimedModel:
    """Forwards to a ctranslate2 Whisper model, timing encode and generate."""

    def __init__(self, model, owner: "FasterWhisperAdapter"):
        self._model, self._owner = model, owner

    def encode(self, *args, **kwargs):
        with self._owner.timer.stage("encoder"):
            return self._model.encode(*args, **kwargs)

    def generate(self, *args, **kwargs):
        with self._owner.timer.stage("decoder"):
            return self._model.generate(*args, **kwargs)

    def detect_language(self, *args, **kwargs):
        with self._owner.timer.stage("language_id"):
            return self._model.detect_language(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


class _TimedFeatures:
    def __init__(self, extractor, owner: "FasterWhisperAdapter"):
        self._extractor, self._owner = extractor, owner

    def __call__(self, *args, **kwargs):
        with self._owner.timer.stage("features"):
            return self._extractor(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._extractor, name)


def compute_type_for(device: str, requested: str = "auto") -> str:
    """int8 on CPU, float16 on CUDA, unless a compute type is asked for."""
    if requested != "auto":
        return requested
    return "float16" if device == "cuda" else "int8"


class FasterWhisperAdapter(ASRAdapter):
    """Any CTranslate2 Whisper model in a folder (or a hub id faster-whisper can fetch)."""

    def __init__(self, info: AdapterInfo, model_source: Callable[[], Path | str], device: str = "cpu",
                 compute_type: str = "auto", cpu_threads: int = 0):
        super().__init__(device)
        self.info = info
        self._model_source = model_source
        self.compute_type = compute_type_for(device, compute_type)
        self.cpu_threads = cpu_threads  # 0 = CTranslate2's default (all cores)
        self.model = None
        self.timer = StageTimer(device)

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def _load(self) -> None:
        from faster_whisper import WhisperModel

        model = WhisperModel(str(self._model_source()), device=self.device, compute_type=self.compute_type,
                             cpu_threads=self.cpu_threads)
        model.model = _TimedModel(model.model, self)
        model.feature_extractor = _TimedFeatures(model.feature_extractor, self)
        self.model = model

    def unload(self) -> None:
        self.model = None

    @property
    def multilingual(self) -> bool:
        self.ensure_loaded()
        return bool(self.model.model.is_multilingual)

    def _recognize(self, samples: np.ndarray, options: WhisperOptions, timer: StageTimer) -> tuple[str, dict]:
        if options.language not in (None, "en") and not self.multilingual:
            raise ConfigError(f"{self.info.id} is English-only; use language=en or a multilingual model")
        self.timer = timer
        if options.batched:  # VAD always runs here (the pipeline needs speech chunks); its time counts as "other"
            from faster_whisper import BatchedInferencePipeline

            segments, info = BatchedInferencePipeline(self.model).transcribe(
                samples, beam_size=options.beam_size, temperature=options.temperature, language=options.language,
                batch_size=options.batch_size)
        else:
            segments, info = self.model.transcribe(
                samples,
                beam_size=options.beam_size,
                temperature=options.temperature,
                language=options.language,
                vad_filter=options.vad_filter,
            )
        segments = list(segments)  # decoding happens while the generator is consumed
        text = "".join(s.text for s in segments)
        details = {"language": info.language, "language_probability": round(float(info.language_probability), 3),
                   "segments": len(segments), "tokens": sum(len(s.tokens) for s in segments),
                   "compute_type": self.compute_type}
        return text, details

    def batch_limit(self, options) -> int | None:
        return None  # the whole batch goes through the model together

    def _recognize_batch(self, clips: list[np.ndarray], options: WhisperOptions,
                         timer: StageTimer) -> list[tuple[str, dict]]:
        """Decode several clips in one CTranslate2 call, with the same predictions as `_recognize` one by one.

        faster-whisper's `BatchedInferencePipeline` decodes without timestamps, with a different
        initial-timestamp rule and without the long-form seek loop, so its text differs from
        `WhisperModel.transcribe` on some clips. Instead this batches the first 30 s window of
        every clip exactly as `WhisperModel.generate_segments` builds it (same features, prompt and
        generate arguments, read from faster-whisper's own defaults), and a clip whose transcript
        does not end inside that window (a second window would follow) is decoded again by
        `_recognize`. Sampling (temperature > 0), VAD, language detection and the chunked batched
        pipeline (`batched`, which batches inside one recording) run one by one.
        """
        one_by_one = (len(clips) == 1 or options.vad_filter or options.language is None
                      or options.temperature > 0 or options.batched)
        short = [i for i, clip in enumerate(clips) if len(clip) <= _WINDOW_SAMPLES] if not one_by_one else []
        outputs: list[tuple[str, dict] | None] = [None] * len(clips)
        if len(short) > 1:
            for i, output in zip(short, self._decode_first_windows([clips[i] for i in short], options, timer)):
                outputs[i] = output
        return [output or self._recognize(clip, options, timer) for clip, output in zip(clips, outputs)]

    def _decode_first_windows(self, clips: list[np.ndarray], options: WhisperOptions,
                              timer: StageTimer) -> list[tuple[str, dict] | None]:
        """Text and details per clip, or None where faster-whisper would decode a second window."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        if options.language != "en" and not self.multilingual:
            raise ConfigError(f"{self.info.id} is English-only; use language=en or a multilingual model")
        self.timer = timer
        whisper = self.model
        defaults = _transcribe_defaults()
        extractor = whisper.feature_extractor
        features = [extractor(clip) for clip in clips]
        content_frames = [f.shape[-1] - 1 for f in features]
        windows = np.stack([pad_or_trim(f[:, :n]) for f, n in zip(features, content_frames)])
        encoder_output = whisper.encode(windows)
        tokenizer = Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe",
                              language=options.language)
        prompt = whisper.get_prompt(tokenizer, [], without_timestamps=defaults["without_timestamps"])
        results = whisper.model.generate(
            encoder_output, [prompt] * len(clips),
            beam_size=options.beam_size, patience=defaults["patience"],
            length_penalty=defaults["length_penalty"], repetition_penalty=defaults["repetition_penalty"],
            no_repeat_ngram_size=defaults["no_repeat_ngram_size"], max_length=whisper.max_length,
            return_scores=True, return_no_speech_prob=True, suppress_blank=defaults["suppress_blank"],
            suppress_tokens=get_suppressed_tokens(tokenizer, defaults["suppress_tokens"]),
            max_initial_timestamp_index=int(round(defaults["max_initial_timestamp"] / whisper.time_precision)),
        )
        # One temperature means no fallback: faster-whisper keeps the first result, as here.
        outputs: list[tuple[str, dict] | None] = []
        for result, frames in zip(results, content_frames):
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) ** defaults["length_penalty"] / (len(tokens) + 1)
            details = {"language": options.language, "language_probability": 1.0, "segments": 0, "tokens": 0,
                       "compute_type": self.compute_type}
            if (result.no_speech_prob > defaults["no_speech_threshold"]
                    and not avg_logprob > defaults["log_prob_threshold"]):
                outputs.append(("", details))  # faster-whisper skips the window as silence
                continue
            # faster-whisper's own segment splitting, so batched text equals its sequential text. A private
            # method: faster-whisper is pinned (requirements.txt) and tests/adapters/test_whisper_batch.py
            # checks its signature and output, so an upgrade that changes it fails there first.
            segments, seek, _ = whisper._split_segments_by_timestamps(
                tokenizer=tokenizer, tokens=tokens, time_offset=0.0, segment_size=frames,
                segment_duration=frames * extractor.time_per_frame, seek=0)
            if seek < frames:
                outputs.append(None)
                continue
            texts = [(tokenizer.decode(s["tokens"]), s) for s in segments]
            kept = [(text, s) for text, s in texts if s["start"] != s["end"] and text.strip()]
            details.update(segments=len(kept), tokens=sum(len(s["tokens"]) for _, s in kept))
            outputs.append(("".join(text for text, _ in kept), details))
        return outputs


WHISPER_WINDOW_SECONDS = 30.0  # Whisper pads or cuts every input to this window
_WINDOW_SAMPLES = int(WHISPER_WINDOW_SECONDS) * 16000


@lru_cache(maxsize=1)
def _transcribe_defaults() -> dict:
    """faster-whisper's own `WhisperModel.transcribe` defaults, so the batched path cannot drift from them."""
    from faster_whisper import WhisperModel

    return {name: p.default for name, p in inspect.signature(WhisperModel.transcribe).parameters.items()}
