import pytest

from studio.compare import outcome_table, recognition_columns, recognize_each, synthesis_columns, synthesize_each
from studio.errors import TextError

pytestmark = pytest.mark.models


def test_a_failing_system_does_not_stop_the_others(registry):
    systems = [registry.system("espeak-ng", "voice=xx-nonexistent"), registry.system("piper-joe", "noise_scale=0")]
    outcomes = list(synthesize_each(registry, systems, "Good morning."))
    assert "espeak-ng produced no audio" in outcomes[0].error and outcomes[1].synthesis is not None
    table = outcome_table(outcomes, synthesis_columns)
    assert list(table["system"]) == ["espeak-ng [voice=xx-nonexistent]", "piper-joe [noise_scale=0.0]"]
    assert table.loc[1, "RTF"] > 0 and "needs a judge" in table.loc[1, "skipped"]


def test_bad_text_stops_before_any_system_runs(registry):
    with pytest.raises(TextError):
        next(synthesize_each(registry, [registry.system("piper-joe")], "🙂"))


def test_recognition_rows_carry_wer_and_stages(piper_speech, registry):
    text, audio = piper_speech[0]
    outcomes = list(recognize_each(registry, [registry.system("whisper-tiny.en", "beam_size=1")], audio, text))
    row = outcome_table(outcomes, recognition_columns).iloc[0]
    assert row["WER (normalised)"] == 0.0 and row["encoder s"] > 0 and row["decoder s"] > 0
    assert outcomes[0].diff == [(text.lower().rstrip("."), None)]


def test_an_unexpected_model_failure_is_reported_in_its_slot(piper_speech, caplog):
    from dataclasses import dataclass

    from studio.adapters import AdapterSpec, ASRAdapter
    from studio.bootstrap import build_registry
    from studio.types import AdapterInfo

    @dataclass(frozen=True)
    class NoOptions:
        pass

    class Broken(ASRAdapter):
        info = AdapterInfo(id="test-broken", task="asr", label="broken", options_type=NoOptions, family="test",
                           decoding="none", model="none")
        loaded = True

        def _load(self):
            pass

        def _recognize(self, samples, options, timer):
            raise RuntimeError("kernel exploded")

    registry = build_registry()
    registry.add(AdapterSpec(Broken.info, Broken))
    outcomes = list(recognize_each(registry, [registry.system("test-broken"), registry.system("pocketsphinx")],
                                   piper_speech[0][1]))
    assert outcomes[0].error.startswith("internal error (RuntimeError: kernel exploded)")
    assert "kernel exploded" in caplog.text  # the traceback went to the log
    assert outcomes[1].transcription.text  # the other system still ran
