"""Watch strategies decode one utterance, round by round: what the Decoding view shows.

Each strategy's tokens arrive as they are verified, tagged as an accepted draft or the
target model's own token. When a strategy finishes, a row compares it with transformers'
greedy `generate` (always decoded first): time, RTFx, acceptance and whether the tokens
are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from studio.adapters.registry import Registry
from studio.audio import Audio
from studio.decoding.options import STRATEGIES, DecodingOptions
from studio.errors import ConfigError
from studio.timing import StageTimer

BASELINE = "greedy generate (baseline)"
PRESETS: dict[str, DecodingOptions] = {
    BASELINE: DecodingOptions(strategy="greedy"),
    "beam search, 5 beams": DecodingOptions(strategy="beam"),
    "lean greedy loop": DecodingOptions(strategy="lean"),
    "speculative: tiny.en drafts (base only)": DecodingOptions(strategy="speculative"),
    "early exit, k=2": DecodingOptions(strategy="early_exit", draft_layers=2),
    "early exit, adaptive k": DecodingOptions(strategy="early_exit"),
    "early exit, k=2, 4096-token drafts": DecodingOptions(strategy="early_exit", draft_layers=2, draft_vocab=4096),
    "prompt lookup": DecodingOptions(strategy="prompt_lookup"),
    "prompt lookup on a first pass": DecodingOptions(strategy="prompt_lookup", lookup="first_pass", draft_tokens=16),
    "audio_ctx fitted to the clip (lossy)": DecodingOptions(strategy="lean", audio_ctx=0),
    "int8 dynamic quantisation (lossy)": DecodingOptions(strategy="lean", quantize=True),
}
ACCEPTED, TARGET = "accepted draft", "target token"


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
            for index, token in enumerate(step.emitted):
                pieces.append((tokenizer.decode([token]), ACCEPTED if index < step.accepted else TARGET))
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
