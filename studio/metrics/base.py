"""The metric plug-in interface (after VERSA): setup once, compute per sample, declare metadata.

A metric declares which `MetricInput` fields it needs, so callers can skip it early with a
reason instead of failing halfway. Configuration errors raise `ConfigError` and stop a run;
a sample the metric cannot score raises `StudioError` with the reason.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from studio.types import Synthesis, Transcription
from studio.audio import Audio

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricInfo:
    name: str  # plug-in name, used in YAML and as the prefix of its score keys
    direction: Direction  # of the headline score
    units: str
    model: str  # the model or library that computes it
    needs: tuple[str, ...]  # MetricInput fields that must be present
    description: str = ""


@dataclass(frozen=True)
class MetricInput:
    """What a metric may look at for one sample; each metric reads only what it `needs`."""

    hypothesis: str | None = None  # recognised text
    reference: str | None = None  # reference text
    audio: Audio | None = None  # audio under test (e.g. a TTS output)
    reference_audio: Audio | None = None  # the target voice
    transcription: Transcription | None = None
    synthesis: Synthesis | None = None


@dataclass(frozen=True)
class MetricScore:
    name: str  # namespaced key, e.g. "wer", "dnsmos.ovrl"
    value: float
    direction: Direction
    units: str
    model: str
    details: dict[str, Any] = field(default_factory=dict)  # e.g. error counts for corpus-level sums


class Metric(ABC):
    info: ClassVar[MetricInfo]

    def __init__(self) -> None:
        self._ready = False
        self._setup_lock = threading.Lock()

    def ensure_setup(self) -> None:
        with self._setup_lock:
            if not self._ready:
                self.setup()
                self._ready = True

    def setup(self) -> None:
        """Load models; called once before the first `compute`."""

    def missing_inputs(self, sample: MetricInput) -> list[str]:
        return [name for name in self.info.needs if getattr(sample, name) in (None, "")]

    def score(self, name: str, value: float, direction: Direction | None = None, units: str | None = None,
              **details: Any) -> MetricScore:
        return MetricScore(name, float(value), direction or self.info.direction, units or self.info.units,
                           self.info.model, details)

    @abstractmethod
    def compute(self, sample: MetricInput) -> list[MetricScore]: ...


