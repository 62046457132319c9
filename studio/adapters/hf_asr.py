"""Hugging Face `transformers` speech recognition: CTC models (wav2vec2, MMS) and sequence-to-sequence models (Whisper).

CTC is non-autoregressive: one forward pass gives a token per frame. Sequence-to-sequence
models encode once, then generate token by token; forward hooks time the encoder where
`generate` calls it, and the decoder is the rest of `generate`.
"""

from __future__ import annotations

import numpy as np
import torch

from studio.adapters.base import ASRAdapter
from studio.types import ASR_SAMPLE_RATE
from studio.adapters.hf_base import HuggingFaceModel
from studio.adapters.hf_options import CTCOptions, Seq2SeqOptions
from studio.adapters.torch_runtime import generate_stages, measured_run
from studio.errors import ConfigError
from studio.timing import StageTimer

# Whisper's decoder prompt (start, language, task, no-timestamps) takes these positions before the first text token.
_PROMPT_TOKENS = 4


class _BatchedASR(HuggingFaceModel, ASRAdapter):
    """Models that take a padded batch in one call; one clip is a batch of one."""

    def batch_limit(self, options) -> int | None:
        return None  # the whole batch goes through the model together

    def _recognize(self, samples: np.ndarray, options: object, timer: StageTimer) -> tuple[str, dict]:
        return self._recognize_batch([samples], options, timer)[0]


class HFCTCAdapter(_BatchedASR):
    """`AutoModelForCTC` with its processor; clips in a batch are padded together and trimmed back per clip."""

    def _load(self) -> None:
        from transformers import AutoModelForCTC, AutoProcessor

        self.processor = AutoProcessor.from_pretrained(self.source)
        self.model = self.pretrained(AutoModelForCTC)

    def _recognize_batch(self, clips: list[np.ndarray], options: CTCOptions, timer: StageTimer) -> list[tuple[str, dict]]:
        with measured_run(self.info.id, self.device) as run:
            with timer.stage("features"):
                inputs = self.to_model(self.processor(clips, sampling_rate=ASR_SAMPLE_RATE, return_tensors="pt",
                                                      padding=True))
            with timer.stage("acoustic_model"):
                logits = self.model(**inputs).logits
            with timer.stage("ctc_decode"):
                ids = logits.argmax(-1).cpu()
                frames = self._frames(clips, ids.shape[1])
                for row, length in enumerate(frames):  # frames past a clip's end only saw padding
                    ids[row, length:] = self.processor.tokenizer.pad_token_id
                texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return [(text, {"frames": int(n), **self.placement.details(), **run}) for text, n in zip(texts, frames)]


    def _frames(self, clips: list[np.ndarray], padded: int) -> list[int]:
        """Output frames that belong to each clip; all of them when the model cannot say (then padding is decoded too)."""
        output_lengths = getattr(self.model, "_get_feat_extract_output_lengths", None)
        if output_lengths is None:
            return [padded] * len(clips)
        return [min(int(n), padded) for n in output_lengths(torch.tensor([len(c) for c in clips]))]


class HFSeq2SeqAdapter(_BatchedASR):
    """`AutoModelForSpeechSeq2Seq` with its processor: Whisper, distil-whisper and kin."""

    def _load(self) -> None:
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        self.processor = AutoProcessor.from_pretrained(self.source)
        self.model = self.pretrained(AutoModelForSpeechSeq2Seq)

    def _recognize_batch(self, clips: list[np.ndarray], options: Seq2SeqOptions,
                         timer: StageTimer) -> list[tuple[str, dict]]:
        generate_options = self._generate_options(options)
        with measured_run(self.info.id, self.device) as run:
            with timer.stage("features"):
                inputs = self.to_model(self.processor(clips, sampling_rate=ASR_SAMPLE_RATE, return_tensors="pt",
                                                      **self._long_form(clips)))
            with generate_stages(timer, self.model.get_encoder(), self.device):
                sequences = self.model.generate(**inputs, **generate_options)
            with timer.stage("detokenize"):
                sequences = sequences.cpu()
                texts = self.processor.batch_decode(sequences, skip_special_tokens=True)
        special = set(self.processor.tokenizer.all_special_ids)
        return [(text, {"tokens": sum(int(t) not in special for t in row), **self.placement.details(), **run})
                for text, row in zip(texts, sequences)]

    def _generate_options(self, options: Seq2SeqOptions) -> dict:
        limit = getattr(self.model.config, "max_target_positions", None)
        if limit and options.max_new_tokens > limit - _PROMPT_TOKENS:
            raise ConfigError(f"{self.info.id} generates at most {limit - _PROMPT_TOKENS} tokens; "
                              f"got max_new_tokens={options.max_new_tokens}")
        generate_options = {"num_beams": options.beam_size, "max_new_tokens": options.max_new_tokens}
        if options.language:
            generation = self.model.generation_config
            if not getattr(generation, "lang_to_id", None) or getattr(generation, "is_multilingual", True) is False:
                raise ConfigError(f"{self.info.id} has no language tokens (English-only or not a Whisper model); "
                                  "leave language empty")
            generate_options["language"] = options.language
        return generate_options

    def _long_form(self, clips: list[np.ndarray]) -> dict:
        """Whisper's feature extractor cuts audio at 30 s; longer clips go through its sequential long-form decoding."""
        window = getattr(self.processor.feature_extractor, "n_samples", None)
        if window and max(len(c) for c in clips) > window:
            return {"truncation": False, "padding": "longest", "return_attention_mask": True}
        return {}
