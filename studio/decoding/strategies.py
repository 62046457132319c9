"""Decoding strategies for PyTorch Whisper, selected by one options dataclass.

Each strategy in `options.STRATEGIES` names its runner:
- `generate` (greedy, beam): transformers' `generate`, the baseline everything is compared with;
- `lean`: our own greedy loop over a preallocated KV cache (batched when `batch_size` > 1);
- `drafting`: a drafter proposes tokens and the target verifies them (`SpeculativeDecoder`); the
  drafters are in `DRAFTERS` below: `speculative` (tiny.en drafts for base, through text),
  `early_exit` (the target's first `draft_layers` layers, 0 = adapt, optionally over the
  `draft_vocab` most frequent tokens), `prompt_lookup` (n-grams of the text so far or a first pass),
  `jacobi` (the target's previous predictions: Jacobi iteration); `draft_tokens=0` adapts the
  draft length, `accept_tolerance` relaxes acceptance (not lossless).
`audio_ctx` (encoder context trimming, not lossless), `quantize` (int8 dynamic
quantisation, not lossless), `output_proj=int8_exact` (int8 scoring with an exact argmax) and
`kv_cache` (quantised KV cache, not lossless) combine with the lean and drafting runners.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import numpy as np
import torch

from studio.decoding.convert import LoadedWhisper, load_whisper
from studio.decoding.exact_head import ExactInt8Head
from studio.decoding.options import DRAFT_MODEL, KV_CACHES, STRATEGIES, DecodingOptions
from studio.decoding.lean import ENCODER_POSITIONS, LeanWhisper, LogitRules, audio_positions
from studio.decoding.longform import (SAMPLES_PER_FRAME, TimestampRules, Window, sequential_windows,
                                      window_features)
from studio.decoding.speculative import (DecodeStats, EarlyExitDrafter, GreedyVerifier, JacobiDrafter, ModelDrafter,
                                         PromptLookupDrafter, Round, SpeculativeDecoder, TolerantVerifier,
                                         frequent_vocabulary)
from studio.decoding.trained import MedusaDrafter, TrainedDrafters, TrainedExitDrafter, load_drafters
from studio.errors import ConfigError
from studio.timing import StageTimer


class FirstPass(Protocol):
    """A cheap transcriber whose text prompt lookup drafts from (lookup=first_pass)."""

    def prepare(self) -> None:
        """Load whatever it needs before anything is timed; `ConfigError` when it cannot run here."""

    def __call__(self, samples: np.ndarray) -> str:
        """The transcript of 16 kHz samples."""


@dataclass(frozen=True)
class DecodeResult:
    tokens: tuple[int, ...]  # generated tokens, prompt and end of text excluded
    text: str
    stats: DecodeStats
    audio_ctx: int  # encoder positions actually used
    rounds: tuple[Round, ...] = field(default=(), repr=False)

    def details(self) -> dict:
        return {"tokens": len(self.tokens), "audio_ctx": self.audio_ctx, **self.stats.as_details()}


@dataclass(frozen=True)
class LongformResult(DecodeResult):
    """A recording decoded window by window; `tokens` hold the kept segments with their timestamp tokens."""

    windows: tuple[Window, ...] = ()

    def details(self) -> dict:
        return {**super().details(), "windows": len(self.windows)}


@dataclass
class _Variant:
    """A model as one strategy family runs it: fp32 or int8."""

    whisper: LoadedWhisper
    hf_model: object
    lean: LeanWhisper
    rules: LogitRules
    exact_head: ExactInt8Head | None = None  # output_proj=int8_exact, built on first use (fp32 variants only)


class WhisperDecoding:
    """A target Whisper (and, for `speculative`, its draft model) with every strategy."""

    def __init__(self, name: str, first_pass: FirstPass | None = None):
        self.name = name
        self.first_pass = first_pass  # a cheap transcriber for prompt lookup's lookup=first_pass
        self._variants: dict[tuple[str, bool], _Variant] = {}
        self._trained: TrainedDrafters | None = None  # medusa and layer_skip heads, loaded on first use
        from transformers import WhisperFeatureExtractor

        self.feature_extractor = WhisperFeatureExtractor(feature_size=80)  # Whisper's log-mel front end

    def prepare(self, options: DecodingOptions) -> None:
        """Load or build what `options` needs (quantised copies, the draft model) before anything is timed."""
        target = self.variant(self.name, options.quantize)
        if options.output_proj == "int8_exact" and target.exact_head is None:  # quantises the head once
            target.exact_head = ExactInt8Head(target.lean.output.weight)
        if options.strategy in DRAFTERS:
            DRAFTERS[options.strategy].prepare(self, options)
        if options.language != "en" and not self.target(options).whisper.multilingual:
            raise ConfigError(f"Whisper {self.name} is English-only; use language=en")

    def variant(self, name: str, quantize: bool) -> _Variant:
        key = (name, quantize)
        if key not in self._variants:
            whisper = load_whisper(name)
            model = whisper.model
            if quantize:
                model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear},
                                                               dtype=torch.qint8)
            self._variants[key] = _Variant(whisper, model, LeanWhisper(model), LogitRules.for_model(whisper.model))
        return self._variants[key]

    def trained_drafters(self, options: DecodingOptions) -> TrainedDrafters:
        """The heads trained for this target (`scripts/train_drafters.py`), loaded once from `assets/drafters/`."""
        if self._trained is None:
            self._trained = load_drafters(self.name, self.target(options).hf_model.config)
        return self._trained

    def target(self, options: DecodingOptions) -> _Variant:
        return self.variant(self.name, options.quantize)

    def features(self, clips: list[np.ndarray], timer: StageTimer) -> torch.Tensor:
        """Log-mel features (batch, 80, 3000) of 16 kHz clips, padded to 30 s as Whisper expects."""
        with timer.stage("features"):
            out = self.feature_extractor(clips, sampling_rate=16000, return_tensors="np").input_features
        return torch.from_numpy(out)

    @torch.inference_mode()
    def decode(self, clips: list[np.ndarray], options: DecodingOptions, timer: StageTimer) -> list[DecodeResult]:
        """Decode 16 kHz clips (together when the strategy batches), in input order."""
        self.prepare(options)
        runner = STRATEGIES[options.strategy].runner
        if runner == "generate":
            return self._generate(clips, options, timer)
        if runner == "lean":
            return self._lean(clips, options, timer)
        return [self.decode_one(clip, options, timer) for clip in clips]

    def decode_one(self, clip: np.ndarray, options: DecodingOptions, timer: StageTimer) -> DecodeResult:
        rounds = list(self.rounds(clip, options, timer))
        stats = DecodeStats()
        for step in rounds:
            stats.add(step)
        generated = STRATEGIES[options.strategy].runner == "generate"
        audio_ctx = ENCODER_POSITIONS if generated else self._audio_ctx(options, [clip])
        return self._result([t for r in rounds for t in r.emitted], stats, options, audio_ctx, tuple(rounds))

    @torch.inference_mode()
    def rounds(self, clip: np.ndarray, options: DecodingOptions, timer: StageTimer) -> Iterator[Round]:
        """One clip's decoding, round by round as verified (for streaming views); greedy/beam give one round."""
        self.prepare(options)
        runner = STRATEGIES[options.strategy].runner
        if runner == "generate":
            result = self._generate([clip], options, timer)[0]
            yield Round((), 0, result.tokens)
            return
        if runner == "lean":
            target = self.target(options)
            features = self.features([clip], timer)
            state = self._start(target, features, self._audio_ctx(options, [clip]), timer, options)
            rescored = [0]
            steps = self._greedy_steps(target, state, options, rescored=rescored)
            while True:
                before = rescored[0]
                with timer.stage("decoder"):  # per step, so a slow consumer of this generator is not timed
                    column = next(steps, None)
                if column is None:
                    return
                yield Round((), 0, (column[0],), rescored=rescored[0] - before)
        yield from self._drafting(clip, options, timer)

    # --- strategies -----------------------------------------------------------------------------

    def _generate(self, clips: list[np.ndarray], options: DecodingOptions, timer: StageTimer) -> list[DecodeResult]:
        """transformers' `generate`: greedy or beam search; encoder and decoder run inside one call."""
        import transformers

        transformers.logging.set_verbosity_error()  # it logs deprecation notes on every call
        target = self.target(options)
        prompt = target.whisper.prompt(options.language)
        eot = target.whisper.special["eot"]
        results: dict[int, DecodeResult] = {}
        for bucket in duration_buckets([len(c) for c in clips], options.batch_size):
            features = self.features([clips[i] for i in bucket], timer)
            with timer.stage("generate"):
                out = target.hf_model.generate(
                    input_features=features, do_sample=False, max_new_tokens=options.max_new_tokens,
                    num_beams=options.beam_size if options.strategy == "beam" else 1,
                    **target.whisper.generate_kwargs(options.language))
            for row, index in zip(out.tolist(), bucket):
                row = row[len(prompt):] if row[:len(prompt)] == prompt else row  # versions differ in echoing it
                tokens = row[:row.index(eot)] if eot in row else row
                stats = DecodeStats(target_steps=len(tokens) + 1, tokens=len(tokens))
                results[index] = self._result(tokens, stats, options, ENCODER_POSITIONS)
        return [results[i] for i in range(len(clips))]

    def _lean(self, clips: list[np.ndarray], options: DecodingOptions, timer: StageTimer) -> list[DecodeResult]:
        """Our greedy loop; clips are bucketed by duration into batches of `batch_size`."""
        target = self.target(options)
        results: dict[int, DecodeResult] = {}
        for bucket in duration_buckets([len(c) for c in clips], options.batch_size):
            batch = [clips[i] for i in bucket]
            audio_ctx = self._audio_ctx(options, batch)
            state = self._start(target, self.features(batch, timer), audio_ctx, timer, options)
            columns, rescored = [], [0] * len(bucket)
            with timer.stage("decoder"):
                columns = list(self._greedy_steps(target, state, options, rescored=rescored))
            for row, index in enumerate(bucket):
                tokens = [c[row] for c in columns if c[row] is not None]
                stats = DecodeStats(target_steps=len(columns), tokens=len(tokens), rescored=rescored[row],
                                    cache_bytes=state.cache_bytes() // len(bucket))
                results[index] = self._result(tokens, stats, options, audio_ctx)
        return [results[i] for i in range(len(clips))]

    def _greedy_steps(self, target: _Variant, state, options: DecodingOptions, prompt: list[int] | None = None,
                      rules: LogitRules | TimestampRules | None = None,
                      rescored: list[int] | None = None) -> Iterator[list[int | None]]:
        """`greedy_steps` with the target's prompt, rules and (output_proj=int8_exact) exact int8 head; long-form
        windows pass the timestamp prompt and rules (one row)."""
        head = target.exact_head if options.output_proj == "int8_exact" else None
        return greedy_steps(target.lean, rules or target.rules, state, prompt or target.whisper.prompt(options.language),
                            target.whisper.special["eot"], options.max_new_tokens, head, rescored)

    def _drafting(self, clip: np.ndarray, options: DecodingOptions, timer: StageTimer,
                  window: "_WindowInput | None" = None) -> Iterator[Round]:
        """Draft-and-verify over one clip, or over one long-form `window` (its features, prompt and rules)."""
        target = self.target(options)
        features = self.features([clip], timer) if window is None else window.features
        audio_ctx = self._audio_ctx(options, [clip])
        state = self._start(target, features, audio_ctx, timer, options)
        prompt = target.whisper.prompt(options.language) if window is None else window.prompt
        rules = target.rules if window is None else window.rules
        drafter = DRAFTERS[options.strategy].make(self, clip, target, state, features, audio_ctx, options, timer)
        if options.accept_tolerance:  # relaxed acceptance needs the target's probabilities
            verifier = TolerantVerifier(target.lean, rules, options.accept_tolerance)
            roles = dict(verifier=verifier, accept=verifier.accept)
        else:
            roles = dict(verifier=GreedyVerifier(target.lean, rules, target.exact_head
                                                 if options.output_proj == "int8_exact" else None))
        decoder = SpeculativeDecoder(target.lean, rules, drafter, options.draft_tokens,
                                     target.whisper.special["eot"], options.max_new_tokens, timer, **roles)
        yield from decoder.rounds(state, prompt)

    # --- long-form audio ------------------------------------------------------------------------

    @torch.inference_mode()
    def decode_long(self, samples: np.ndarray, options: DecodingOptions, timer: StageTimer) -> LongformResult:
        """A recording of any length by Whisper's sequential 30 s window loop (`studio.decoding.longform`),
        each window decoded by `options.strategy` with timestamp tokens."""
        if options.output_proj == "int8_exact":
            raise ConfigError("output_proj=int8_exact works on clips up to 30 s: Whisper's timestamp rules read the "
                              "full logits (a timestamp wins on its summed probability). Use output_proj=fp32")
        self.prepare(options)
        target = self.target(options)
        prompt = target.whisper.prompt(options.language, timestamps=True)
        rules = TimestampRules.for_model(target.whisper.model, target.rules, len(prompt))
        with timer.stage("features"):  # once over the whole recording, as transformers' long-form generate does
            features = torch.from_numpy(self.feature_extractor(
                samples, sampling_rate=16000, truncation=False, padding="longest", return_tensors="np").input_features)
        stats = DecodeStats()

        def decode_window(seek: int, frames: int) -> list[int]:
            clip = samples[seek * SAMPLES_PER_FRAME:(seek + frames) * SAMPLES_PER_FRAME]
            window = _WindowInput(window_features(features, seek, frames), prompt, rules)
            return self._decode_window(clip, window, options, timer, stats)

        timestamp_begin = rules.timestamp_begin
        windows = sequential_windows(features.shape[-1], decode_window, timestamp_begin)
        tokens = tuple(t for w in windows for t in w.kept)
        text = target.whisper.tokenizer.decode([t for t in tokens if t < timestamp_begin], skip_special_tokens=True)
        audio_ctx = options.audio_ctx or ENCODER_POSITIONS
        return LongformResult(tokens, text, stats, audio_ctx, windows=tuple(windows))

    def _generate_window(self, target: _Variant, window: "_WindowInput", options: DecodingOptions,
                         timer: StageTimer) -> list[int]:
        """transformers' `generate` over one window with Whisper's timestamp processor.

        `WhisperForConditionalGeneration.generate` would run its own seek loop inside the window (it
        re-decodes the audio after the last complete segment), so the window goes through the generic
        `GenerationMixin.generate` with the processors Whisper's `generate` adds: its generation config's
        suppression, then `WhisperTimeStampLogitsProcessor` (transformers' own class, not ours)."""
        from transformers import GenerationMixin, LogitsProcessorList
        from transformers.generation.logits_process import WhisperTimeStampLogitsProcessor

        config = target.hf_model.generation_config
        timestamps = WhisperTimeStampLogitsProcessor(config, begin_index=len(window.prompt))
        with timer.stage("generate"):
            out = GenerationMixin.generate(
                target.hf_model, input_features=window.features, decoder_input_ids=torch.tensor([window.prompt]),
                logits_processor=LogitsProcessorList([timestamps]), generation_config=config, do_sample=False,
                num_beams=options.beam_size if options.strategy == "beam" else 1,
                max_new_tokens=options.max_new_tokens)
        row = out.tolist()[0][len(window.prompt):]
        eot = target.whisper.special["eot"]
        return row[:row.index(eot)] if eot in row else row

    def _decode_window(self, clip: np.ndarray, window: "_WindowInput", options: DecodingOptions,
                       timer: StageTimer, stats: DecodeStats) -> list[int]:
        """One 30 s window's tokens (timestamps included, end of text cut off) by the options' strategy;
        its steps are added to the recording's `stats`."""
        target = self.target(options)
        runner = STRATEGIES[options.strategy].runner
        if runner == "drafting":
            tokens = []
            for step in self._drafting(clip, options, timer, window):
                stats.add(step)
                tokens += step.emitted
            return tokens
        if runner == "generate":
            tokens = self._generate_window(target, window, options, timer)
        else:
            state = self._start(target, window.features, self._audio_ctx(options, [clip]), timer, options)
            with timer.stage("decoder"):
                tokens = [c[0] for c in self._greedy_steps(target, state, options, window.prompt, window.rules)]
        stats.target_steps += len(tokens) + 1  # one step per token and one for end of text
        stats.tokens += len(tokens)
        return tokens

    def first_pass_tokens(self, clip: np.ndarray, target: _Variant, timer: StageTimer) -> list[int]:
        """The first-pass transcript in the target's tokens, ending in end of text (its time counts as drafting)."""
        with timer.stage("draft"):
            text = self.first_pass(clip).strip()
            tokens = target.whisper.tokenizer.encode(" " + text, add_special_tokens=False) if text else []
        return tokens + [target.whisper.special["eot"]]

    # --- shared steps -------------------------------------------------------------------------

    def _audio_ctx(self, options: DecodingOptions, clips: list[np.ndarray]) -> int:
        if options.audio_ctx:
            return options.audio_ctx
        return audio_positions(max(len(c) for c in clips) / 16000)

    def _start(self, target: _Variant, features: torch.Tensor, audio_ctx: int, timer: StageTimer,
               options: DecodingOptions | None = None):
        bits, rank = (KV_CACHES[options.kv_cache], options.kv_residual_rank) if options else (0, 0)
        with timer.stage("encoder"):
            return target.lean.start(target.lean.encode(features, audio_ctx), bits, rank)

    def _result(self, tokens: list[int], stats: DecodeStats, options: DecodingOptions, audio_ctx: int,
                rounds: tuple[Round, ...] = ()) -> DecodeResult:
        tokenizer = self.target(options).whisper.tokenizer
        return DecodeResult(tuple(tokens), tokenizer.decode(tokens, skip_special_tokens=True), stats, audio_ctx,
                            rounds)


@dataclass(frozen=True)
class _WindowInput:
    """What a long-form window gives the strategies instead of a clip's own features and prompt."""

    features: torch.Tensor  # (1, 80, 3000): the window's slice of the whole recording's log-mel
    prompt: list[int]  # start of transcript without <|notimestamps|>
    rules: TimestampRules


def greedy_steps(lean: LeanWhisper, rules: LogitRules | TimestampRules, state, prompt: list[int], eot: int,
                 max_new_tokens: int, exact_head: ExactInt8Head | None = None,
                 rescored: list[int] | None = None) -> Iterator[list[int | None]]:
    """The lean greedy loop: one token per row per step; None for rows that have ended. Stops when every
    row has ended. Rules that read the sequence (timestamps) see the first row's tokens, so they take one row.
    With `exact_head` (LogitRules only) the argmax comes from int8 scores with fp32 rescoring, and each row's
    rescored vocabulary rows are added to `rescored`. (Module-level so the drafter training script runs it
    on a bare model.)"""
    batch = state.batch
    tokens = torch.tensor([prompt] * batch)
    sequence = list(prompt)
    alive = torch.ones(batch, dtype=torch.bool)
    for step in range(max_new_tokens):
        hidden = lean.hidden(tokens, state)
        if exact_head is not None:
            best, counts = exact_head.argmax(hidden[:, -1], rules.mask(1, 0 if step == 0 else -1).expand(batch, -1))
            tokens = best[:, None]
            if rescored is not None:
                for row, count in enumerate(counts.tolist()):
                    rescored[row] += count if alive[row] else 0
        else:
            logits = rules.apply(lean.logits(hidden[:, -1:]), 0 if step == 0 else -1, sequence)
            tokens = logits[:, -1].argmax(-1, keepdim=True)
        sequence.append(int(tokens[0, 0]))
        ended = tokens[:, 0] == eot
        column = [int(t) if a and not e else None for t, a, e in zip(tokens[:, 0], alive, ended)]
        alive &= ~ended
        if not alive.any():
            return
        yield column


def duration_buckets(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted by length), so short clips
    do not wait for long ones and trimmed encoder contexts stay tight.

    >>> duration_buckets([5, 1, 4, 2], 2)
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


# --- drafters: how each drafting strategy proposes tokens (the verifier and acceptance rule are
# shared, in SpeculativeDecoder). `prepare` loads what it needs before anything is timed.

def _model_drafter_prepare(lab: WhisperDecoding, options: DecodingOptions) -> None:
    if lab.name not in DRAFT_MODEL:
        raise ConfigError(f"Whisper {lab.name} has no smaller model to draft for it; speculative decoding "
                          f"works for {', '.join(DRAFT_MODEL)}. Try strategy=early_exit or prompt_lookup")
    lab.variant(DRAFT_MODEL[lab.name], options.quantize)


def _model_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                   options: DecodingOptions, timer: StageTimer):
    draft = lab.variant(DRAFT_MODEL[lab.name], options.quantize)
    with timer.stage("draft_encoder"):
        draft_state = draft.lean.start(draft.lean.encode(features, audio_ctx))
    return ModelDrafter(draft.lean, draft_state, draft.rules, draft.whisper.tokenizer, draft.whisper.prompt(),
                        draft.whisper.special["eot"], target.whisper.tokenizer, target.whisper.special["eot"],
                        len(target.whisper.prompt(options.language)))


def _early_exit_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                        options: DecodingOptions, timer: StageTimer):
    if options.draft_layers >= target.lean.num_layers:
        raise ConfigError(f"draft_layers must be below the {target.lean.num_layers} decoder layers of "
                          f"Whisper {lab.name}; got {options.draft_layers}")
    eot = target.whisper.special["eot"]
    vocabulary = frequent_vocabulary(target.rules, options.draft_vocab, eot) if options.draft_vocab else None
    return EarlyExitDrafter(target.lean, state, target.rules, eot, len(target.whisper.prompt(options.language)),
                            options.draft_layers, vocabulary)


def _lookup_prepare(lab: WhisperDecoding, options: DecodingOptions) -> None:
    if options.lookup != "first_pass":
        return
    if lab.first_pass is None:
        raise ConfigError("lookup=first_pass needs a first-pass recogniser (faster-whisper tiny.en), which is not "
                          "offered here; use lookup=output")
    lab.first_pass.prepare()  # loaded now, not inside the timed draft stage


def _lookup_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                    options: DecodingOptions, timer: StageTimer):
    reference = lab.first_pass_tokens(clip, target, timer) if options.lookup == "first_pass" else []
    return PromptLookupDrafter(len(target.whisper.prompt(options.language)), options.ngram, reference)


def _trained_prepare(lab: WhisperDecoding, options: DecodingOptions) -> None:
    lab.trained_drafters(options)


def _medusa_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                    options: DecodingOptions, timer: StageTimer):
    return MedusaDrafter(target.lean, target.rules, lab.trained_drafters(options), target.whisper.special["eot"])


def _layer_skip_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                        options: DecodingOptions, timer: StageTimer):
    return TrainedExitDrafter(target.lean, state, target.rules, lab.trained_drafters(options),
                              target.whisper.special["eot"], len(target.whisper.prompt(options.language)),
                              options.exit_confidence)


def _jacobi_drafter(lab: WhisperDecoding, clip, target: _Variant, state, features, audio_ctx: int,
                    options: DecodingOptions, timer: StageTimer):
    return JacobiDrafter()


@dataclass(frozen=True)
class Drafting:
    make: Callable[..., object]  # (lab, clip, target, state, features, audio_ctx, options, timer) -> drafter
    prepare: Callable[[WhisperDecoding, DecodingOptions], None] = lambda lab, options: None


DRAFTERS: dict[str, Drafting] = {
    "speculative": Drafting(_model_drafter, _model_drafter_prepare),
    "early_exit": Drafting(_early_exit_drafter),
    "prompt_lookup": Drafting(_lookup_drafter, _lookup_prepare),
    "medusa": Drafting(_medusa_drafter, _trained_prepare),
    "layer_skip": Drafting(_layer_skip_drafter, _trained_prepare),


    "jacobi": Drafting(_jacobi_drafter),
}
