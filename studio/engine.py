"""The engine the UI and the evaluation CLI both call: recognise, synthesise, score.

Nothing here knows about Gradio. Inputs are checked once (`studio.audio`, `studio.text`);
problems surface as `StudioError` with a message for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from studio.adapters import System, get_adapter
from studio.adapters.base import Synthesis, Transcription
from studio.audio import Audio
from studio.limits import Limits
from studio.metrics import MetricInput, MetricScore, get_metric
from studio.text import check_text


def recognize(system: System, audio: Audio, device: str = "auto") -> Transcription:
    """One utterance through one ASR system."""
    return get_adapter(system.adapter_id, device).transcribe(audio, system.options)


def synthesize(system: System, text: str, device: str = "auto", limits: Limits | None = None) -> Synthesis:
    """Checked text through one TTS system."""
    return get_adapter(system.adapter_id, device).synthesize(check_text(text, limits), system.options)


def synthesize_stream(system: System, text: str, device: str = "auto",
                      limits: Limits | None = None) -> Iterator[Audio | Synthesis]:
    """Checked text through one TTS system, chunk by chunk: `Audio` chunks, then the `Synthesis`."""
    checked = check_text(text, limits)  # checked before the first chunk, so bad text fails at once
    return get_adapter(system.adapter_id, device).stream(checked, system.options)


@dataclass(frozen=True)
class Scored:
    """Scores for one output, the metrics that could not run and why, and the judge's transcript for TTS."""

    scores: list[MetricScore]
    skipped: dict[str, str] = field(default_factory=dict)
    judge_transcription: Transcription | None = None

    def value(self, name: str) -> float | None:
        return next((s.value for s in self.scores if s.name == name), None)


def score(metric_names: list[str], sample: MetricInput) -> Scored:
    """Run each metric that has its inputs; record the others as skipped with the reason."""
    scores: list[MetricScore] = []
    skipped: dict[str, str] = {}
    for name in metric_names:
        metric = get_metric(name)
        missing = metric.missing_inputs(sample)
        if missing:
            skipped[name] = f"needs {', '.join(missing)}"
            continue
        scores.extend(metric.compute(sample))
    return Scored(scores, skipped)


def score_recognition(result: Transcription, reference: str | None = None) -> Scored:
    """WER/CER against the reference (when given) and the latency figures."""
    return score(["wer", "latency"], MetricInput(hypothesis=result.text, reference=reference or None,
                                                 transcription=result))


def score_synthesis(result: Synthesis, text: str, judge: System | None = None, reference_voice: Audio | None = None,
                    metrics: tuple[str, ...] = ("wer", "dnsmos", "speaker_similarity", "latency")) -> Scored:
    """Round-trip WER through the `judge` ASR system, DNSMOS, similarity to `reference_voice`, latency."""
    judged = recognize(judge, result.audio) if judge and "wer" in metrics else None
    scored = score(list(metrics), MetricInput(
        hypothesis=judged.text if judged else None,
        reference=text,
        audio=result.audio,
        reference_audio=reference_voice,
        synthesis=result,
    ))
    if "wer" in scored.skipped and not judge:
        scored.skipped["wer"] = "needs a judge ASR system for round-trip WER"
    return Scored(scored.scores, scored.skipped, judged)
