"""PocketSphinx: the classic HMM/n-gram recogniser, as a non-neural baseline.

It ships with its US English acoustic model, language model and dictionary. Feature
extraction and search run inside one C call, so only the total is measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.adapters.base import ASRAdapter
from studio.types import AdapterInfo
from studio.errors import ConfigError
from studio.timing import StageTimer


@dataclass(frozen=True)
class PocketSphinxOptions:
    language_weight: float = 6.5  # n-gram LM weight against the acoustic score (PocketSphinx's -lw)
    beam: float = 1e-48  # pruning beam; larger (e.g. 1e-20) is faster and less accurate

    def __post_init__(self):
        if not 0.0 < self.language_weight <= 50.0:
            raise ConfigError(f"language_weight must be in (0, 50]; got {self.language_weight}")
        if not 0.0 < self.beam < 1.0:
            raise ConfigError(f"beam must be in (0, 1); got {self.beam}")


INFO = AdapterInfo(
    id="pocketsphinx",
    task="asr",
    label="PocketSphinx en-us (HMM baseline)",
    options_type=PocketSphinxOptions,
    family="PocketSphinx",
    decoding="HMM/n-gram Viterbi beam search",
    model="pocketsphinx 5 bundled en-us acoustic model, en-us.lm.bin, cmudict",
    stages=("decode",),
    not_measured=("features (inside the decode call)",),
    description="Classic non-neural recogniser: continuous-density HMM acoustic model with a 3-gram LM.",
    kind="HMM",
    size_mb=37.9,  # acoustic model, language model and dictionary
    licence="BSD-2-Clause",
)


class PocketSphinxAdapter(ASRAdapter):
    info = INFO

    def __init__(self, device: str = "cpu"):
        super().__init__("cpu")  # CPU only
        self._decoders: dict[PocketSphinxOptions, object] = {}

    @property
    def loaded(self) -> bool:
        return bool(self._decoders)

    def _load(self) -> None:
        self._decoder(PocketSphinxOptions())

    def unload(self) -> None:
        self._decoders.clear()

    def _decoder(self, options: PocketSphinxOptions):
        if options not in self._decoders:
            from pocketsphinx import Decoder

            self._decoders[options] = Decoder(samprate=16000, loglevel="FATAL",
                                              lw=options.language_weight, beam=options.beam)
        return self._decoders[options]

    def _recognize(self, samples: np.ndarray, options: PocketSphinxOptions, timer: StageTimer) -> tuple[str, dict]:
        decoder = self._decoder(options)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        with timer.stage("decode"):
            decoder.start_utt()
            decoder.process_raw(pcm.tobytes(), full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
        return (hypothesis.hypstr if hypothesis else ""), {}
