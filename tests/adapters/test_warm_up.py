"""Every model is warmed up once, untimed, when it loads, so no tab times a cold first call (issue 14)."""

import pytest

from studio.adapters import AdapterSpec, ASRAdapter, Registry
from studio.assets import example_recordings, example_texts
from studio.audio import load_audio
from studio.bootstrap import build_registry
from studio.compare import outcome_table, recognition_columns, recognize_each, synthesis_columns, synthesize_each
from studio.types import AdapterInfo
from tests.adapters.test_registry import _NoOptions


@pytest.mark.models
def test_the_first_timed_recognition_after_a_load_is_warm():
    registry = build_registry()  # its own: the session registry's models may have served calls already
    adapter = registry.load("whisper-tiny.en")
    assert adapter.calls == 1 and adapter.warm_up_seconds > 0  # the warm-up, untimed and reported apart
    example = example_recordings()[0]
    outcome = next(recognize_each(registry, [registry.system("whisper-tiny.en")], load_audio(example.path)))
    assert adapter.calls == 2 and outcome.transcription.warm
    assert outcome_table([outcome], recognition_columns)["call"].tolist() == ["warm"]
    registry.unload("whisper-tiny.en")
    registry.get("whisper-tiny.en")
    assert adapter.calls == 1  # every load warms up again


@pytest.mark.models
def test_the_first_timed_synthesis_after_a_load_is_warm():
    registry = build_registry()
    outcome = next(synthesize_each(registry, [registry.system("piper-joe")], example_texts()[0]))
    assert registry.get("piper-joe").calls == 2 and outcome.synthesis.warm
    assert outcome_table([outcome], synthesis_columns)["call"].tolist() == ["warm"]


_INFO = AdapterInfo(id="test-fails-once", task="asr", label="fails once", options_type=_NoOptions, family="test",
                    decoding="none", model="none")


class _FailsOnFirstCall(ASRAdapter):
    """An engine whose first call fails (so its warm-up does): the next call is the first to run."""

    info = _INFO

    def __init__(self, device):
        super().__init__(device)
        self.ready = False

    @property
    def loaded(self):
        return self.ready

    def _load(self):
        self.ready, self.failed_once = True, False

    def _recognize(self, samples, options, timer):
        if not self.failed_once:
            self.failed_once = True
            raise RuntimeError("first call")
        return "ok", {}


def test_a_call_after_a_failed_warm_up_is_marked_cold(caplog):
    registry = Registry()
    registry.add(AdapterSpec(_INFO, _FailsOnFirstCall))
    outcomes = list(recognize_each(registry, [registry.system("test-fails-once")] * 2, load_audio(example_recordings()[0].path)))
    assert "could not warm up" in caplog.text
    assert outcome_table(outcomes, recognition_columns)["call"].tolist() == ["cold (first call after load)", "warm"]
