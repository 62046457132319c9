"""hama: a CTC phoneme recogniser followed by a phoneme-to-grapheme (P2G) model, both in the `hama` package.

The acoustic model reads the waveform in one forward pass and emits IPA phonemes by greedy CTC
(non-autoregressive); the P2G model then spells the phonemes out as words, one character at a
time (a small decoder-only model, greedy). The two stages are timed apart, because they are
different kinds of generation. The phoneme string, the honest output of the CTC stage, is kept
in the transcription's details; the words are the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.adapters.base import ASRAdapter
from studio.errors import ConfigError
from studio.timing import StageTimer
from studio.types import AdapterInfo

WORD_BOUNDARY = "|"  # hama's word separator in `word_phoneme_text`, which P2G reads


@dataclass(frozen=True)
class HamaOptions:
    blank_bias: float = -0.1  # added to the CTC blank logit before argmax (hama's default); lower = more phonemes

    def __post_init__(self):
        if not -5.0 <= self.blank_bias <= 5.0:
            raise ConfigError(f"blank_bias must be between -5 and 5; got {self.blank_bias}")


INFO = AdapterInfo(
    id="hama",
    task="asr",
    label="hama CTC phonemes + P2G (non-autoregressive acoustic model)",
    options_type=HamaOptions,
    family="hama (CTC phoneme recogniser + P2G)",
    decoding="non-autoregressive acoustic model: one pass, greedy CTC over IPA phonemes; "
             "then a small autoregressive phoneme-to-grapheme model spells the words (greedy)",
    model="hama 1.7.0 asr_waveform.hama (4.7 MB) + p2g.hama (14.6 MB), run by hama's own CPU engine",
    stages=("acoustic", "p2g"),
    description="Phoneme recogniser with a separate spelling model; the phonemes are in the details.",
    kind="non-autoregressive",
    size_mb=19.3,
    licence="Apache-2.0",
)


class HamaAdapter(ASRAdapter):
    info = INFO

    def __init__(self, device: str = "cpu"):
        super().__init__("cpu")  # hama's engine runs on the CPU only
        self._acoustic: dict[HamaOptions, object] = {}  # one acoustic model per decode config (it is fixed at build)
        self._p2g = None

    @property
    def loaded(self) -> bool:
        return self._p2g is not None

    def _load(self) -> None:
        from hama import P2GModel

        self._acoustic_model(HamaOptions())
        self._p2g = P2GModel()

    def unload(self) -> None:
        self._acoustic.clear()
        self._p2g = None

    def _acoustic_model(self, options: HamaOptions):
        if options not in self._acoustic:
            from hama import ASRDecodeConfig, ASRModel

            self._acoustic[options] = ASRModel(decode=ASRDecodeConfig(blank_bias=options.blank_bias))
        return self._acoustic[options]

    def _recognize(self, samples: np.ndarray, options: HamaOptions, timer: StageTimer) -> tuple[str, dict]:
        acoustic = self._acoustic_model(options)
        with timer.stage("acoustic"):
            result = acoustic.transcribe_waveform(samples, 16000)
        with timer.stage("p2g"):
            pieces = [self._p2g.predict(chunk).text for chunk in p2g_chunks(result.word_phoneme_text)]
        details = {"phonemes": result.word_phoneme_text, "phoneme_count": len(result.phonemes),
                   "p2g_calls": len(pieces)}
        return " ".join(p for p in pieces if p), details


def p2g_chunks(word_phonemes: str, limit: int | None = None) -> list[str]:
    """The phoneme string cut at word boundaries into pieces P2G reads whole.

    P2G reads at most `hama.p2g.MAX_INPUT_LEN` tokens (192, boundaries included) and silently
    drops the rest, which on clips over about 15 s would lose words; one piece is the usual case.

    >>> p2g_chunks("a b | c d | e", limit=5)
    ['a b | c d', 'e']
    """
    if limit is None:
        from hama.p2g import MAX_INPUT_LEN as limit
    chunks: list[list[str]] = []
    current: list[str] = []
    for word in (w.split() for w in word_phonemes.split(WORD_BOUNDARY)):
        if not word:
            continue
        extra = word if not current else [WORD_BOUNDARY, *word]
        if current and len(current) + len(extra) > limit:
            chunks.append(current)
            current, extra = [], word
        current += extra[:limit]  # a single "word" over the limit (never seen) is cut rather than lost whole
    if current:
        chunks.append(current)
    return [" ".join(c) for c in chunks]
