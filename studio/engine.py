"""The engine the UI and the evaluation both call: recognise, synthesise, score.

Nothing here knows about Gradio. Inputs are checked once (`studio.audio`, `studio.text`);
problems surface as `StudioError` with a message for the user. Scoring has one rule, the
same in the Synthesize tab and in evaluations: a metric that cannot score a sample is
skipped with its reason and the others still count; an unknown metric stops the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from studio.adapters.registry import Registry, System
from studio.audio import Audio
from studio.errors import ConfigError, StudioError, failure_message
from studio.limits import Limits
from studio.metrics import MetricInput, MetricScore, get_metric
from studio.text import check_text
from studio.types import Synthesis, Transcription

Judge = Callable[[Audio], Transcription]  # the ASR system that transcribes synthesised speech


def recognize(registry: Registry, system: System, audio: Audio, device: str = "auto") -> Transcription:
    """One utterance through one ASR system."""
    return registry.get(system.adapter_id, device).transcribe(audio, system.options)


def synthesize(registry: Registry, system: System, text: str, device: str = "auto",
               limits: Limits | None = None) -> Synthesis:
    """Checked text through one TTS system."""
    return registry.get(system.adapter_id, device).synthesize(check_text(text, limits), system.options)


def judge_for(registry: Registry, system: System | None, device: str = "auto") -> Judge | None:
    """A judge that runs `system` (None when there is no judge)."""
    if system is None:
        return None
    if system.task != "asr":
        raise ConfigError(f"the judge must be an ASR system; {system.adapter_id} is {system.task}")
    return lambda audio: recognize(registry, system, audio, device)


def synthesize_stream(registry: Registry, system: System, text: str, device: str = "auto",
                      limits: Limits | None = None) -> Iterator[Audio | Synthesis]:
    """Checked text through one TTS system, chunk by chunk: `Audio` chunks, then the `Synthesis`."""
    checked = check_text(text, limits)  # checked before the first chunk, so bad text fails at once
    return registry.get(system.adapter_id, device).stream(checked, system.options)


@dataclass(frozen=True)
class Scored:
    """Scores for one output, the metrics that could not run and why, and the judge's transcript for TTS."""

    scores: list[MetricScore]
    skipped: dict[str, str] = field(default_factory=dict)
    judge_transcription: Transcription | None = None

    def value(self, name: str) -> float | None:
        return next((s.value for s in self.scores if s.name == name), None)

    def values(self) -> dict[str, float]:
        return {s.name: s.value for s in self.scores}

    def error_counts(self) -> dict[str, dict[str, int]]:
        """WER/CER errors and reference lengths, for corpus rates (total errors / total reference words)."""
        return {s.name: {"errors": s.details["errors"], "reference_length": s.details["reference_length"]}
                for s in self.scores if s.name in ("wer", "cer")}


def score(metric_names: list[str] | tuple[str, ...], sample: MetricInput) -> Scored:
    """Run each metric that has its inputs; record the others, and those that fail on this sample, as skipped."""
    scores: list[MetricScore] = []
    skipped: dict[str, str] = {}
    for name in metric_names:
        metric = get_metric(name)  # an unknown name raises ConfigError: a config mistake stops the caller
        missing = metric.missing_inputs(sample)
        if missing:
            skipped[name] = f"needs {', '.join(missing)}"
            continue
        try:
            scores.extend(metric.compute(sample))
        except ConfigError:
            raise
        except StudioError as error:  # this sample cannot be scored by this metric; the others still can
            skipped[name] = str(error)
    return Scored(scores, skipped)


def score_recognition(result: Transcription, reference: str | None = None,
                      metrics: tuple[str, ...] = ("wer", "latency")) -> Scored:
    """WER/CER against the reference (when given) and the latency figures."""
    return score(metrics, MetricInput(hypothesis=result.text, reference=reference or None, transcription=result))


def score_synthesis(result: Synthesis, text: str, judge: Judge | None = None, reference_voice: Audio | None = None,
                    metrics: tuple[str, ...] = ("wer", "dnsmos", "speaker_similarity", "latency")) -> Scored:
    """Round-trip WER through the `judge`, DNSMOS, similarity to `reference_voice`, latency."""
    judged, judge_problem = None, ""
    if judge and "wer" in metrics:
        try:
            judged = judge(result.audio)
        except Exception as error:  # noqa: BLE001 - round-trip WER is skipped with the reason, as a failing metric is
            judge_problem = f"the judge could not transcribe it: {failure_message(error)}"
    scored = score(metrics, MetricInput(
        hypothesis=judged.text if judged else None,
        reference=text,
        audio=result.audio,
        reference_audio=reference_voice,
        synthesis=result,
    ))
    if "wer" in scored.skipped:
        scored.skipped["wer"] = judge_problem or ("needs a judge ASR system for round-trip WER" if not judge
                                                  else scored.skipped["wer"])
    return Scored(scored.scores, scored.skipped, judged)
