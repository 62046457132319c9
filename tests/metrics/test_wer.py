import pytest

from studio.errors import StudioError
from studio.metrics import MetricInput, get_metric
from studio.metrics.wer import char_errors, normalize, word_diff, word_errors


def scores(hypothesis, reference):
    return {s.name: s for s in get_metric("wer").compute(MetricInput(hypothesis=hypothesis, reference=reference))}


@pytest.mark.parametrize(
    "reference, hypothesis, subs, dels, ins, wer",
    [
        ("the cat sat on the mat", "the cat sat on the mat", 0, 0, 0, 0.0),
        ("the cat sat on the mat", "the cat sit on the mat", 1, 0, 0, 1 / 6),  # one substitution
        ("the cat sat on the mat", "the cat on the mat", 0, 1, 0, 1 / 6),  # one deletion
        ("the cat sat", "the black cat sat down", 0, 0, 2, 2 / 3),  # two insertions
        ("a b", "c d e", 2, 0, 1, 3 / 2),  # WER can exceed 1
        ("hello", "", 0, 1, 0, 1.0),  # empty hypothesis: everything deleted
    ],
)
def test_word_errors_by_hand(reference, hypothesis, subs, dels, ins, wer):
    counts = word_errors(reference, hypothesis)
    assert (counts.substitutions, counts.deletions, counts.insertions) == (subs, dels, ins)
    assert counts.rate == pytest.approx(wer)


def test_character_errors_by_hand():
    counts = char_errors("kitten", "sitting")  # the textbook Levenshtein distance of 3
    assert counts.errors == 3 and counts.reference_length == 6


def test_raw_and_normalised_rates_differ_only_by_formatting():
    s = scores("Hello, Mr. Smith! It's 20 percent.", "hello mister smith it is twenty percent")
    assert s["wer"].value == 0.0
    assert s["wer_raw"].value == 1.0  # punctuation and case make every raw word differ
    assert s["wer"].direction == "lower" and s["wer"].details["reference_length"] == 6  # "20%" after normalising


def test_normaliser_is_whispers():
    assert normalize("Colour TVs cost $20.") == "color tvs cost $20"


def test_empty_reference_is_an_error_not_a_zero():
    with pytest.raises(StudioError, match="reference text is empty"):
        scores("anything", "   ")
    with pytest.raises(StudioError, match="reference text is empty"):
        scores("anything", "!!!")  # nothing left after normalisation


def test_word_diff_marks_each_error():
    assert word_diff("the cat sat on the mat", "the cat sit on mat", normalized=False) == [
        ("the cat", None), ("sat→sit", "substitution"), ("on", None), ("the", "deletion"), ("mat", None),
    ]
