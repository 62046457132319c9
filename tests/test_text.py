import pytest

from studio.errors import TextError
from studio.limits import Limits
from studio.text import check_text, spoken_form


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 51, "51 characters long; the limit is 50"),
        ("Hello 😀 world", "emoji"),
        ("Hello мир", "non-Latin"),
        ("東京 is big", "non-Latin"),
        ("zero\u200bwidth", "control"),
    ],
)
def test_bad_text_is_refused_with_a_reason(text, message):
    with pytest.raises(TextError, match=message):
        check_text(text, Limits(max_text_chars=50))


def test_good_text_is_normalised_and_kept():
    assert check_text("  Café au lait, s'il vous plaît. \n") == "Café au lait, s'il vous plaît."


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("Dr. Smith lives on Main St.", "Doctor Smith lives on Main Street"),
        ("St. Louis", "Saint Louis"),
        ("It costs $20.", "It costs twenty dollars."),
        ("£1.01", "one pound and one penny"),
        ("on Nov. 3rd", "on November third"),
        ("50% off", "50 percent off"),
    ],
)
def test_spoken_form(text, spoken):
    assert spoken_form(text) == spoken
