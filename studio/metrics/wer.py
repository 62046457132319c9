"""Word and character error rates with jiwer, raw and after Whisper's English normaliser.

Raw rates compare the strings as written (case and punctuation count); normalised rates
apply `whisper_normalizer.english.EnglishTextNormalizer` to both sides first, as the
Open ASR Leaderboard does. Error counts travel in `details` so corpus-level rates
(total errors / total reference words) can be summed across utterances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jiwer

from studio.errors import StudioError
from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore


@lru_cache(maxsize=1)
def _english_normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Whisper's English normalisation: lowercase, no punctuation, spelled-out numbers as digits, US spelling."""
    return " ".join(_english_normalizer()(text).split())


@dataclass(frozen=True)
class ErrorCounts:
    substitutions: int
    deletions: int
    insertions: int
    reference_length: int  # words or characters

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        return self.errors / self.reference_length


def word_errors(reference: str, hypothesis: str) -> ErrorCounts:
    reference, hypothesis = _checked(reference), hypothesis.strip()
    out = jiwer.process_words(reference, hypothesis)
    return ErrorCounts(out.substitutions, out.deletions, out.insertions, out.substitutions + out.deletions + out.hits)


def char_errors(reference: str, hypothesis: str) -> ErrorCounts:
    reference, hypothesis = _checked(reference), hypothesis.strip()
    out = jiwer.process_characters(reference, hypothesis)
    return ErrorCounts(out.substitutions, out.deletions, out.insertions, out.substitutions + out.deletions + out.hits)


def word_diff(reference: str, hypothesis: str, normalized: bool = True) -> list[tuple[str, str | None]]:
    """Aligned words for display: (word, None) for a match, ("ref→hyp", "substitution"),
    (ref, "deletion"), (hyp, "insertion")."""
    if normalized:
        reference, hypothesis = normalize(reference), normalize(hypothesis)
    out = jiwer.process_words(_checked(reference), hypothesis.strip())
    ref_words, hyp_words = out.references[0], out.hypotheses[0]
    pieces: list[tuple[str, str | None]] = []
    for chunk in out.alignments[0]:
        ref = ref_words[chunk.ref_start_idx:chunk.ref_end_idx]
        hyp = hyp_words[chunk.hyp_start_idx:chunk.hyp_end_idx]
        if chunk.type == "equal":
            pieces.append((" ".join(ref), None))
        elif chunk.type == "substitute":
            pieces.extend((f"{r}→{h}", "substitution") for r, h in zip(ref, hyp))
        elif chunk.type == "delete":
            pieces.append((" ".join(ref), "deletion"))
        else:
            pieces.append((" ".join(hyp), "insertion"))
    return pieces


def _checked(reference: str) -> str:
    if not reference or not reference.strip():
        raise StudioError("the reference text is empty (after normalisation); WER needs at least one reference word")
    return reference.strip()


class WER(Metric):
    info = MetricInfo(
        name="wer",
        direction="lower",
        units="fraction",
        model="jiwer 4 + whisper_normalizer EnglishTextNormalizer",
        needs=("hypothesis", "reference"),
        description="Word and character error rate, normalised (headline) and raw.",
    )

    def compute(self, sample: MetricInput) -> list[MetricScore]:
        ref, hyp = sample.reference, sample.hypothesis
        norm_ref, norm_hyp = normalize(ref), normalize(hyp)
        scores = []
        for name, counts in (
            ("wer", word_errors(norm_ref, norm_hyp)),
            ("wer_raw", word_errors(ref, hyp)),
            ("cer", char_errors(norm_ref, norm_hyp)),
            ("cer_raw", char_errors(ref, hyp)),
        ):
            scores.append(self.score(name, counts.rate, errors=counts.errors, reference_length=counts.reference_length,
                                     substitutions=counts.substitutions, deletions=counts.deletions,
                                     insertions=counts.insertions))
        return scores
