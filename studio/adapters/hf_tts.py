"""Hugging Face `transformers` speech synthesis: VITS (MMS-TTS) and SpeechT5 with its HiFi-GAN vocoder.

VITS is non-autoregressive: text encoder, duration predictor, flow and vocoder run once
each. SpeechT5 is autoregressive: the decoder predicts the spectrogram frame by frame until
its stop probability passes a threshold, then HiFi-GAN turns it into a waveform. Both are
timed per stage through forward hooks, so the two kinds compare stage by stage.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from studio.adapters.base import TTSAdapter
from studio.types import AdapterInfo
from studio.adapters.hf_base import HuggingFaceModel
from studio.adapters.hf_options import SpeechT5Options, VitsOptions
from studio.adapters.torch_runtime import Placement, generate_stages, measured_run, timed_modules
from studio.errors import ConfigError, TextError
from studio.timing import StageTimer


class _HFTTS(HuggingFaceModel, TTSAdapter):
    """Synthesis in one piece: the first audio is ready when all of it is."""

    _details: dict[str, Any] = {}  # of the last synthesis, replaced (never mutated) by each call

    def run_details(self) -> dict[str, Any]:
        return self._details

    def _stream(self, text: str, options: Any, timer: StageTimer) -> Iterator[np.ndarray]:
        with measured_run(self.info.id, self.device) as run:
            waveform, details = self._synthesize(text, options, timer)
            samples = waveform.float().cpu().numpy().reshape(-1)
        self._details = {**details, **self.placement.details(), **run}
        yield samples

    @abstractmethod
    def _synthesize(self, text: str, options: Any, timer: StageTimer) -> tuple[torch.Tensor, dict[str, Any]]:
        """The waveform (any shape holding one utterance) and details; time stages with `timer`."""

    def _token_ids(self, text: str, timer: StageTimer) -> torch.Tensor:
        with timer.stage("tokenize"):
            ids = self.processor(text=text, return_tensors="pt")["input_ids"]
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        ignored = {tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.eos_token_id, tokenizer.bos_token_id}
        if not any(int(i) not in ignored for i in ids[0]):
            raise TextError(f"{self.info.id} cannot read any character of {text[:40]!r}: "
                            "they are not in its vocabulary (is it a voice for another language or script?)")
        limit = getattr(self.model.config, "max_text_positions", None)
        if limit and ids.shape[-1] > limit:
            raise TextError(f"{self.info.id} reads at most {limit} tokens at once; this text has {ids.shape[-1]}. "
                            "Split it into shorter sentences.")
        return ids.to(self.device)


class HFVitsAdapter(_HFTTS):
    """`VitsModel` with its tokenizer (MMS-TTS voices)."""

    def _load(self) -> None:
        from transformers import AutoTokenizer, VitsModel

        self.processor = AutoTokenizer.from_pretrained(self.source)
        self.model = self.pretrained(VitsModel)
        self.sample_rate = self.model.config.sampling_rate

    def _synthesize(self, text: str, options: VitsOptions, timer: StageTimer) -> tuple[torch.Tensor, dict[str, Any]]:
        ids = self._token_ids(text, timer)
        model = self.model
        # VitsModel reads these from attributes rather than from forward() arguments.
        model.speaking_rate, model.noise_scale = options.speaking_rate, options.noise_scale
        model.noise_scale_duration = options.noise_scale_duration
        stages = {"text_encoder": model.text_encoder, "duration_predictor": model.duration_predictor,
                  "flow": model.flow, "vocoder": model.decoder}
        with _seeded(options.seed, self.device), timed_modules(timer, stages):
            waveform = model(input_ids=ids).waveform[0]
        return waveform, {"tokens": int(ids.shape[-1])}


class HFSpeechT5Adapter(_HFTTS):
    """`SpeechT5ForTextToSpeech` + `SpeechT5HifiGan`, speaking with one speaker embedding (x-vector)."""

    def __init__(self, info: AdapterInfo, source: str, placement: Placement, vocoder: str,
                 speaker_embedding: Path | None = None):
        super().__init__(info, source, placement)
        self.vocoder_source = vocoder
        self.speaker_embedding_path = speaker_embedding  # .npy of the model's speaker_embedding_dim; None = zeros
        self.vocoder = None
        self.speaker = None

    def _load(self) -> None:
        from transformers import AutoProcessor, SpeechT5ForTextToSpeech, SpeechT5HifiGan

        self.processor = AutoProcessor.from_pretrained(self.source)
        self.model = self.pretrained(SpeechT5ForTextToSpeech)
        self.vocoder = self.pretrained(SpeechT5HifiGan, self.vocoder_source)
        self.speaker = self._speaker_embedding().to(self.device, self.placement.torch_dtype)
        self.sample_rate = self.vocoder.config.sampling_rate

    def _speaker_embedding(self) -> torch.Tensor:
        size = self.model.config.speaker_embedding_dim
        if self.speaker_embedding_path is None:
            return torch.zeros(1, size)
        vector = np.load(self.speaker_embedding_path, allow_pickle=False).astype(np.float32).reshape(-1)
        if vector.size != size:
            raise ConfigError(f"speaker_embedding {self.speaker_embedding_path} has {vector.size} values; "
                              f"{self.info.id} expects {size} (an x-vector of the model's speaker_embedding_dim)")
        return torch.from_numpy(vector)[None]

    def _synthesize(self, text: str, options: SpeechT5Options,
                    timer: StageTimer) -> tuple[torch.Tensor, dict[str, Any]]:
        ids = self._token_ids(text, timer)
        with generate_stages(timer, self.model.speecht5.encoder, self.device):
            spectrogram = self.model.generate_speech(ids, self.speaker, threshold=options.threshold,
                                                     minlenratio=options.minlenratio, maxlenratio=options.maxlenratio)
        with timer.stage("vocoder"):
            waveform = self.vocoder(spectrogram)
        return waveform, {"tokens": int(ids.shape[-1]), "frames": int(spectrogram.shape[0])}

    def modules(self) -> tuple[Any, ...]:
        return tuple(m for m in (self.model, self.vocoder) if m is not None)

    def unload(self) -> None:
        self.vocoder = self.speaker = None
        super().unload()


@contextlib.contextmanager
def _seeded(seed: int | None, device: str) -> Iterator[None]:
    """Seed the noise for this call only; the global random state is restored afterwards."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device == "cuda" else []):
        torch.manual_seed(seed)
        yield
