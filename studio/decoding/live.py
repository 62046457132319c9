"""Watch strategies decode one utterance, round by round: what the Decoding view shows.

Each strategy's tokens arrive as they are verified, tagged per drafter as an accepted draft,
a rejected draft (shown where the target replaced it) or the target model's own token. When a
strategy finishes, a row compares it with transformers' greedy `generate` (always decoded
first): time, RTFx, acceptance and whether the tokens are identical.

The presets are data: one line each in `PRESET_TABLE`, and every strategy in
`options.STRATEGIES` that no line covers gets a preset with its default options, so a new
strategy appears here (with its own colours) without an edit to this module.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator

from studio.adapters.registry import Registry
from studio.audio import Audio
from studio.decoding.options import STRATEGIES, DecodingOptions
from studio.errors import ConfigError
from studio.timing import StageTimer

BASELINE = "greedy generate (baseline)"
PRESET_TABLE: tuple[tuple[str, dict], ...] = (  # label, DecodingOptions fields
    (BASELINE, dict(strategy="greedy")),
    ("beam search, 5 beams", dict(strategy="beam")),
    ("lean greedy loop", dict(strategy="lean")),
    ("speculative: tiny.en drafts (base only)", dict(strategy="speculative")),
    ("early exit, k=2", dict(strategy="early_exit", draft_layers=2)),
    ("early exit, adaptive k", dict(strategy="early_exit")),
    ("early exit, k=2, 4096-token drafts", dict(strategy="early_exit", draft_layers=2, draft_vocab=4096)),
    ("prompt lookup", dict(strategy="prompt_lookup")),
    ("prompt lookup on a first pass", dict(strategy="prompt_lookup", lookup="first_pass", draft_tokens=16)),
    ("audio_ctx fitted to the clip (lossy)", dict(strategy="lean", audio_ctx=0)),
    ("int8 dynamic quantisation (lossy)", dict(strategy="lean", quantize=True)),
    ("lean loop, exact int8 output projection", dict(strategy="lean", output_proj="int8_exact")),
    ("prompt lookup on a first pass, adaptive draft length", dict(strategy="prompt_lookup", lookup="first_pass",
                                                                  draft_tokens=0)),
    ("speculative, adaptive draft length, exact int8 head (base only)", dict(strategy="speculative",
                                                                             draft_tokens=0,
                                                                             output_proj="int8_exact")),
    ("Jacobi decoding, window 5", dict(strategy="jacobi")),
    ("early exit, k=2, relaxed acceptance 0.2 (lossy)", dict(strategy="early_exit", draft_layers=2,
                                                             accept_tolerance=0.2)),
    ("int8 KV cache (lossy)", dict(strategy="lean", kv_cache="int8")),
    ("int4 KV cache + rank-4 residual (lossy)", dict(strategy="lean", kv_cache="int4", kv_residual_rank=4)),
    ("medusa: trained draft heads (base only)", dict(strategy="medusa")),
    ("layer skip: trained exit head (base only)", dict(strategy="layer_skip")),
)


def _presets() -> dict[str, DecodingOptions]:
    presets = {label: DecodingOptions(**values) for label, values in PRESET_TABLE}
    covered = {options.strategy for options in presets.values()}
    presets.update({f"{name} (default options)": DecodingOptions(strategy=name)
                    for name in STRATEGIES if name not in covered})
    return presets


PRESETS: dict[str, DecodingOptions] = _presets()
TARGET = "target token"
DRAFTERS = [name for name, spec in STRATEGIES.items() if spec.runner == "drafting"]
_PALETTE = (("#1b7f3b", "#f4a3a3"), ("#6a1b9a", "#f8bbd0"), ("#e65100", "#ffe0b2"), ("#00838f", "#b2ebf2"),
            ("#827717", "#f0f4c3"), ("#4e342e", "#d7ccc8"), ("#ad1457", "#fce4ec"), ("#283593", "#c5cae9"))


def accepted_tag(drafter: str) -> str:
    return f"{drafter}: accepted draft"


def rejected_tag(drafter: str) -> str:
    return f"{drafter}: rejected draft"


def _tag_colours() -> dict[str, str]:
    """The legend: the target's tokens, and each drafter's accepted (dark) and rejected (light) drafts."""
    colours = {TARGET: "#1565c0"}
    for drafter, (accepted, rejected) in zip(DRAFTERS, itertools.cycle(_PALETTE)):
        colours[accepted_tag(drafter)], colours[rejected_tag(drafter)] = accepted, rejected
    return colours


TAG_COLOURS = _tag_colours()


@dataclass(frozen=True)
class Progress:
    """The strategy being decoded, its tokens so far as (text, tag) pieces, and the finished rows."""

    strategy: str
    pieces: list[tuple[str, str]]
    rows: list[dict]


def watch(registry: Registry, adapter_id: str, preset_names: list[str], audio: Audio) -> Iterator[Progress]:
    """Decode `audio` with the baseline and then each preset, yielding after every verified round."""
    unknown = [n for n in preset_names if n not in PRESETS]
    if unknown:
        raise ConfigError(f"unknown strategy preset(s) {', '.join(unknown)}; choose from {', '.join(PRESETS)}")
    if registry.info(adapter_id).options_type is not DecodingOptions:  # checked before anything loads
        raise ConfigError(f"{adapter_id} is not a decoding-lab model; pick one of the torch-whisper-* models")
    adapter = registry.get(adapter_id, "cpu")
    lab = adapter.decoding
    clip = audio.resample(16000)
    rows: list[dict] = []
    baseline_tokens: tuple[int, ...] | None = None
    for name in [BASELINE, *[n for n in preset_names if n != BASELINE]]:
        options = PRESETS[name]
        timer = StageTimer()
        # The lab is shared with the adapter's other callers: decode under its lock, then stream
        # the recorded rounds to the page, so a slow page never holds the model.
        with adapter.lock:
            try:
                lab.prepare(options)
            except ConfigError as error:
                rounds = None
                note = str(error)
            else:
                tokenizer = lab.target(options).whisper.tokenizer
                rounds = list(lab.rounds(clip.samples, options, timer))
        if rounds is None:
            rows.append({"strategy": name, "note": note})
            yield Progress(name, [], list(rows))
            continue
        pieces, tokens, drafted, accepted, steps = [], [], 0, 0, 0
        for step in rounds:
            pieces += [(tokenizer.decode([t]), accepted_tag(options.strategy)) for t in step.emitted[:step.accepted]]
            pieces += [(tokenizer.decode([t]), rejected_tag(options.strategy)) for t in step.drafted[step.accepted:]]
            pieces += [(tokenizer.decode([t]), TARGET) for t in step.emitted[step.accepted:]]
            tokens += step.emitted
            drafted, accepted, steps = drafted + len(step.drafted), accepted + step.accepted, steps + 1
            yield Progress(name, list(pieces), list(rows))
        seconds = sum(timer.seconds.values())  # engine stages only: the time spent streaming to the page is left out
        baseline_tokens = tuple(tokens) if baseline_tokens is None else baseline_tokens
        rows.append({
            "strategy": name,
            "seconds": round(seconds, 3),
            "rtfx": round(clip.duration / seconds, 2) if seconds else None,
            "speedup vs baseline": round(rows[0]["seconds"] / seconds, 2) if rows and seconds else 1.0,
            "same tokens as baseline": tuple(tokens) == baseline_tokens,
            "lossless by design": options.lossless,
            "drafted": drafted,
            "accepted": accepted,
            "target steps": len(tokens) + 1 if STRATEGIES[options.strategy].runner == "generate" else steps,
            "text": tokenizer.decode(tokens),
        })
        yield Progress(name, list(pieces), list(rows))
