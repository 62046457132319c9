"""Speed figures read off a recognition or synthesis result (no model of its own)."""

from __future__ import annotations

from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore


class Latency(Metric):
    info = MetricInfo(
        name="latency",
        direction="lower",
        units="s",
        model="wall clock (time.perf_counter, CUDA synchronised), model load excluded",
        needs=(),
        description="ASR: processing time, RTFx and per-stage seconds. TTS: synthesis time, RTF, time to first audio.",
    )

    def missing_inputs(self, sample: MetricInput) -> list[str]:
        return [] if (sample.transcription or sample.synthesis) else ["transcription or synthesis"]

    def compute(self, sample: MetricInput) -> list[MetricScore]:
        result = sample.transcription or sample.synthesis
        scores = [self.score("latency", result.processing_seconds)]
        if sample.transcription:
            scores.append(self.score("rtfx", sample.transcription.rtfx, "higher", "x real time"))
        else:
            scores.append(self.score("rtf", sample.synthesis.rtf, "lower", "compute s / audio s"))
            scores.append(self.score("ttfa", sample.synthesis.time_to_first_audio))
        scores.extend(self.score(f"stage.{name}", seconds) for name, seconds in result.stage_seconds.items())
        return scores
