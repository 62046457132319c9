"""Speaker similarity: cosine of GE2E speaker embeddings (resemblyzer's pretrained encoder).

Seen on this project's audio: the same Piper voice on two texts about 0.96, two clips of
one human speaker about 0.88, different human speakers about 0.73, Piper vs eSpeak about 0.56.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from studio.audio import Audio
from studio.errors import AudioError
from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore


class SpeakerSimilarity(Metric):
    info = MetricInfo(
        name="speaker_similarity",
        direction="higher",
        units="cosine",
        model="resemblyzer 0.1.4 GE2E VoiceEncoder (256-d)",
        needs=("audio", "reference_audio"),
        description="Cosine similarity between the speaker embeddings of the audio and a reference voice.",
    )

    def setup(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resemblyzer's deps warn about deprecated scipy / pkg_resources
            from resemblyzer import VoiceEncoder

            self.encoder = VoiceEncoder(device="cpu", verbose=False)
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(audio.samples, source_sr=audio.sample_rate)  # resample, VAD-trim, normalise
        if len(wav) < 1600:
            raise AudioError("too little voiced speech (under 0.1 s after trimming silence) to embed a speaker")
        with self._lock:
            return self.encoder.embed_utterance(wav)

    def compute(self, sample: MetricInput) -> list[MetricScore]:
        similarity = float(self.embed(sample.audio) @ self.embed(sample.reference_audio))  # unit-norm embeddings
        return [self.score("speaker_similarity", similarity)]
