"""Side-by-side runs for the Recognize and Synthesize tabs: several systems, one input.

Each system's outcome is yielded as soon as it finishes. A system that cannot run (its
model is missing, its options are wrong) gets its own error and the others still run;
a bad *input* (audio, text) raises before any system starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import pandas as pd

from studio import engine
from studio.adapters.registry import Registry, System
from studio.audio import Audio
from studio.errors import failure_message
from studio.metrics.wer import word_diff
from studio.text import check_text
from studio.types import Synthesis, Transcription


@dataclass(frozen=True)
class RecognitionOutcome:
    system: System
    transcription: Transcription | None = None
    scored: engine.Scored | None = None
    diff: list[tuple[str, str | None]] | None = None  # word alignment against the reference
    error: str | None = None


@dataclass(frozen=True)
class SynthesisOutcome:
    system: System
    synthesis: Synthesis | None = None
    scored: engine.Scored | None = None
    error: str | None = None


def recognize_each(registry: Registry, systems: list[System], audio: Audio,
                   reference: str = "") -> Iterator[RecognitionOutcome]:
    """Run every system on the same audio; score against `reference` when one is given."""
    reference = reference.strip()
    for system in systems:
        try:
            result = engine.recognize(registry, system, audio)
            scored = engine.score_recognition(result, reference)
            diff = word_diff(reference, result.text) if reference and scored.value("wer") is not None else None
            yield RecognitionOutcome(system, result, scored, diff)
        except Exception as error:  # noqa: BLE001 - one system's failure is shown in its slot
            yield RecognitionOutcome(system, error=failure_message(error))


def synthesize_each(registry: Registry, systems: list[System], text: str, judge: System | None = None,
                    reference_voice: Audio | None = None) -> Iterator[SynthesisOutcome]:
    """Speak the same text with every system and score each output (round-trip WER, DNSMOS, similarity)."""
    text = check_text(text)
    judged_by = engine.judge_for(registry, judge)
    for system in systems:
        try:
            result = engine.synthesize(registry, system, text)
            yield SynthesisOutcome(system, result, engine.score_synthesis(result, text, judged_by, reference_voice))
        except Exception as error:  # noqa: BLE001 - one system's failure is shown in its slot
            yield SynthesisOutcome(system, error=failure_message(error))


@dataclass(frozen=True)
class StreamedChunk:
    """A piece of one system's speech, ready to play while the rest is synthesised."""

    index: int  # the system's place in the list given
    audio: Audio


def synthesize_streaming_each(registry: Registry, systems: list[System], text: str, judge: System | None = None,
                              reference_voice: Audio | None = None) -> Iterator[StreamedChunk | SynthesisOutcome]:
    """`synthesize_each`, streamed: each system's chunks as its voice makes them, then its scored outcome."""
    text = check_text(text)
    judged_by = engine.judge_for(registry, judge)
    for index, system in enumerate(systems):
        try:
            for item in engine.synthesize_stream(registry, system, text):
                if isinstance(item, Synthesis):
                    yield SynthesisOutcome(system, item, engine.score_synthesis(item, text, judged_by, reference_voice))
                else:
                    yield StreamedChunk(index, item)
        except Exception as error:  # noqa: BLE001 - one system's failure is shown in its slot
            yield SynthesisOutcome(system, error=failure_message(error))


def recognition_columns(outcome: RecognitionOutcome) -> dict:
    """Error rates, RTFx and per-stage seconds; stages the engine hides are named under 'not measured'."""
    t, scored = outcome.transcription, outcome.scored
    return {
        "WER (normalised)": scored.value("wer"), "WER (raw)": scored.value("wer_raw"),
        "CER (normalised)": scored.value("cer"), "RTFx": t.rtfx, "processing s": t.processing_seconds,
        **{f"{name} s": seconds for name, seconds in t.stage_seconds.items()},
        "audio s": t.audio_duration, "call": _call_state(t.warm),
        "model load s (once, not in processing)": t.load_seconds, "device": t.device,
        "not measured": "; ".join(t.not_measured),
    }


def synthesis_columns(outcome: SynthesisOutcome) -> dict:
    """Speed (RTF, time to first audio) and the automatic quality scores."""
    s, scored = outcome.synthesis, outcome.scored
    return {
        "RTF": s.rtf, "time to first audio s": s.time_to_first_audio, "synthesis s": s.processing_seconds,
        "audio s": s.audio.duration, "chunks": s.chunks,
        "round-trip WER": scored.value("wer"), "DNSMOS OVRL": scored.value("dnsmos"),
        "DNSMOS SIG": scored.value("dnsmos_sig"), "DNSMOS BAK": scored.value("dnsmos_bak"),
        "speaker similarity": scored.value("speaker_similarity"),
        "judge heard": scored.judge_transcription.text if scored.judge_transcription else None,
        "call": _call_state(s.warm), "model load s (once, not in synthesis)": s.load_seconds, "device": s.device,
        "skipped": "; ".join(f"{k}: {v}" for k, v in scored.skipped.items()),
    }


def _call_state(warm: bool) -> str:
    """Every model is warmed up once, untimed, when it loads; a call is cold only when that warm-up failed."""
    return "warm" if warm else "cold (first call after load)"


def outcome_table(outcomes: list, columns: Callable[..., dict]) -> pd.DataFrame:
    """One row per system: its label, then `columns(outcome)`, or its error."""
    rows = [
        {"system": o.system.label, **({"error": o.error} if o.error else columns(o))}
        for o in outcomes
    ]
    return pd.DataFrame(rows).round(3).dropna(axis=1, how="all")
