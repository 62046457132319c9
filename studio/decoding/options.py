"""Typed options of the decoding lab and the table of its strategies (kept free of torch, so
registering the adapters stays cheap).

A new strategy is one `StrategySpec` line here and its implementation in `strategies.py`
(a drafter for a drafting strategy); the options, the adapter, the live view and the
benchmark read this table.

>>> DecodingOptions(strategy="early_exit", draft_layers=2).lossless
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.errors import ConfigError

ENCODER_POSITIONS = 1500  # 30 s of audio: Whisper's fixed window (50 encoder positions per second)


@dataclass(frozen=True)
class StrategySpec:
    """What everyone outside `strategies.py` needs to know of a strategy."""

    name: str
    runner: Literal["generate", "lean", "drafting"]  # transformers' generate; our greedy loop; draft-and-verify
    batches: bool  # decodes several clips in one call (batch_size > 1)
    lossless: bool  # gives greedy generate's tokens exactly (with the full audio_ctx and no quantisation)


STRATEGIES: dict[str, StrategySpec] = {s.name: s for s in (
    StrategySpec("greedy", "generate", True, True),  # transformers' greedy generate: the baseline
    StrategySpec("beam", "generate", True, False),  # transformers' beam search, beam_size beams
    StrategySpec("lean", "lean", True, True),  # our greedy loop over a preallocated KV cache
    StrategySpec("speculative", "drafting", False, True),  # tiny.en drafts for base, verified by base
    StrategySpec("early_exit", "drafting", False, True),  # the first draft_layers decoder layers draft for the rest
    StrategySpec("prompt_lookup", "drafting", False, True),  # n-grams of the text so far (or a first pass) draft
    StrategySpec("medusa", "drafting", False, True),  # trained heads on the last decoder state draft a chain
    StrategySpec("layer_skip", "drafting", False, True),  # the first k layers + a trained exit head draft
    StrategySpec("jacobi", "drafting", False, True),  # Jacobi iteration: last pass's predictions are the next guesses
)}
Strategy = Literal[tuple(STRATEGIES)]  # type: ignore[valid-type]  # the option parser lists these choices
OUTPUT_PROJECTIONS = ("fp32", "int8_exact")  # int8_exact: int8 scores, error bounds, fp32 rescoring (exact argmax)
KV_CACHES = {"fp32": 0, "int8": 8, "int4": 4}  # cache precision -> bits of its codes (0 = unquantised)
DRAFT_MODEL = {"base": "tiny.en"}  # the smaller model that drafts for each target
FIRST_PASS_ADAPTER = "whisper-tiny.en"  # faster-whisper int8: the cheap first pass for lookup=first_pass


@dataclass(frozen=True)
class DecodingOptions:
    strategy: Strategy = "lean"
    beam_size: int = 5  # beam only
    draft_tokens: int = 5  # drafting strategies: tokens proposed per target step; 0 = adapt to the acceptance rate
    accept_tolerance: float = 0.0  # drafting: also accept a draft whose target probability is within this of the
    # top token's (relaxed acceptance, lossy); 0 = exact greedy agreement
    draft_layers: int = 0  # early_exit: decoder layers that draft; 0 = adapt k while decoding
    draft_vocab: int = 0  # early_exit: draft over the N most frequent tokens (exact verification); 0 = all
    ngram: int = 3  # prompt_lookup: longest n-gram matched
    lookup: Literal["output", "first_pass"] = "output"  # prompt_lookup: search the output only, or also a
    # first-pass transcript by faster-whisper tiny.en int8 (its time counts as drafting)
    exit_confidence: float = 0.5  # layer_skip: keep drafting while the exit head's top probability is at least this
    audio_ctx: int = ENCODER_POSITIONS  # encoder positions, 50 per second; 1500 = full 30 s; 0 = fit each clip
    quantize: bool = False  # int8 dynamic quantisation of every Linear layer (not lossless)
    output_proj: Literal["fp32", "int8_exact"] = "fp32"  # lean, drafting: int8_exact scores with int8 weights and
    # rescores in fp32 the tokens whose error bound reaches the top (the argmax stays exact)
    kv_cache: Literal["fp32", "int8", "int4"] = "fp32"  # lean, drafting: quantised KV cache (not lossless)
    kv_residual_rank: int = 0  # kv_cache int8/int4: rank of the low-rank residual kept for the cross-attention cache
    batch_size: int = 1  # lean, greedy, beam: clips decoded together, bucketed by duration
    max_new_tokens: int = 224  # Whisper's own limit per 30 s window
    language: str = "en"  # multilingual models only

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}; got {self.strategy!r}")
        if not 1 <= self.beam_size <= 16:
            raise ConfigError(f"beam_size must be between 1 and 16; got {self.beam_size}")
        if not 0 <= self.draft_tokens <= 16:
            raise ConfigError(f"draft_tokens must be 0 (adaptive) or between 1 and 16; got {self.draft_tokens}")
        if self.draft_layers < 0:
            raise ConfigError(f"draft_layers must be 0 (adaptive) or a layer count; got {self.draft_layers}")
        if self.draft_vocab and self.draft_vocab < 256:
            raise ConfigError(f"draft_vocab must be 0 (all tokens) or at least 256; got {self.draft_vocab}")
        if not 1 <= self.ngram <= 8:
            raise ConfigError(f"ngram must be between 1 and 8; got {self.ngram}")
        if self.lookup not in ("output", "first_pass"):
            raise ConfigError(f"lookup must be 'output' or 'first_pass'; got {self.lookup!r}")
        if not 0.0 <= self.exit_confidence <= 1.0:
            raise ConfigError(f"exit_confidence must be between 0 and 1; got {self.exit_confidence}")
        if not 0 <= self.audio_ctx <= ENCODER_POSITIONS:
            raise ConfigError(f"audio_ctx must be 0 (fit each clip) to {ENCODER_POSITIONS} (30 s); got {self.audio_ctx}")
        spec = STRATEGIES[self.strategy]
        if self.audio_ctx != ENCODER_POSITIONS and spec.runner == "generate":
            raise ConfigError(f"audio_ctx needs our own encoder call; strategy={self.strategy} runs transformers' "
                              "generate, which always encodes 30 s. Use strategy=lean")
        if not 1 <= self.batch_size <= 64:
            raise ConfigError(f"batch_size must be between 1 and 64; got {self.batch_size}")
        if self.batch_size > 1 and not spec.batches:
            batching = ", ".join(s.name for s in STRATEGIES.values() if s.batches)
            raise ConfigError(f"strategy={self.strategy} decodes one clip at a time; use batch_size=1 "
                              f"(strategies {batching} batch)")
        if not 1 <= self.max_new_tokens <= 440:
            raise ConfigError(f"max_new_tokens must be between 1 and 440; got {self.max_new_tokens}")
        self._verify_training_free_options(spec)

    def _verify_training_free_options(self, spec: StrategySpec) -> None:
        if not 0 <= self.accept_tolerance < 1:
            raise ConfigError(f"accept_tolerance is a probability gap from 0 (exact) up to 1; got {self.accept_tolerance}")
        if self.accept_tolerance and spec.runner != "drafting":
            raise ConfigError(f"accept_tolerance relaxes the acceptance of drafts; strategy={self.strategy} drafts "
                              "nothing. Use a drafting strategy: " + ", ".join(_drafting()))
        if self.output_proj not in OUTPUT_PROJECTIONS:
            raise ConfigError(f"output_proj must be one of {', '.join(OUTPUT_PROJECTIONS)}; got {self.output_proj!r}")
        if self.kv_cache not in KV_CACHES:
            raise ConfigError(f"kv_cache must be one of {', '.join(KV_CACHES)}; got {self.kv_cache!r}")
        if not 0 <= self.kv_residual_rank <= 64:
            raise ConfigError(f"kv_residual_rank must be between 0 and 64 (the head size); got {self.kv_residual_rank}")
        if self.kv_residual_rank and self.kv_cache == "fp32":
            raise ConfigError("kv_residual_rank corrects a quantised cache; set kv_cache=int8 or int4 as well")
        changed = [f"{name}={getattr(self, name)}" for name, default in (("output_proj", "fp32"), ("kv_cache", "fp32"))
                   if getattr(self, name) != default]
        if changed and spec.runner == "generate":
            raise ConfigError(f"{' and '.join(changed)} need our own decoder loop; strategy={self.strategy} runs "
                              "transformers' generate. Use strategy=lean or a drafting strategy")
        if self.output_proj == "int8_exact" and self.quantize:
            raise ConfigError("output_proj=int8_exact rescores with the fp32 head, which quantize=true replaces by "
                              "int8; use one of them")
        if self.output_proj == "int8_exact" and self.accept_tolerance:
            raise ConfigError("accept_tolerance compares the target's probabilities, and output_proj=int8_exact "
                              "computes only its argmax; use output_proj=fp32 with a tolerance")

    @property
    def lossless(self) -> bool:
        """True when the strategy must reproduce greedy `generate`'s tokens exactly."""
        return (STRATEGIES[self.strategy].lossless and self.audio_ctx == ENCODER_POSITIONS and not self.quantize
                and not self.accept_tolerance and self.kv_cache == "fp32")


def _drafting() -> list[str]:
    return [s.name for s in STRATEGIES.values() if s.runner == "drafting"]
