import pytest

from studio.adapters import System
from studio.compare import outcome_table, recognition_columns, recognize_each, synthesis_columns, synthesize_each
from studio.errors import TextError

pytestmark = pytest.mark.models


def test_a_failing_system_does_not_stop_the_others():
    systems = [System.parse("espeak-ng", "voice=xx-nonexistent"), System.parse("piper-joe", "noise_scale=0")]
    outcomes = list(synthesize_each(systems, "Good morning."))
    assert "espeak-ng produced no audio" in outcomes[0].error and outcomes[1].synthesis is not None
    table = outcome_table(outcomes, synthesis_columns)
    assert list(table["system"]) == ["espeak-ng [voice=xx-nonexistent]", "piper-joe [noise_scale=0.0]"]
    assert table.loc[1, "RTF"] > 0 and "needs a judge" in table.loc[1, "skipped"]


def test_bad_text_stops_before_any_system_runs():
    with pytest.raises(TextError):
        next(synthesize_each([System.parse("piper-joe")], "🙂"))


def test_recognition_rows_carry_wer_and_stages(piper_speech):
    text, audio = piper_speech[0]
    outcomes = list(recognize_each([System.parse("whisper-tiny.en", "beam_size=1")], audio, text))
    row = outcome_table(outcomes, recognition_columns).iloc[0]
    assert row["WER (normalised)"] == 0.0 and row["encoder s"] > 0 and row["decoder s"] > 0
    assert outcomes[0].diff == [(text.lower().rstrip("."), None)]
