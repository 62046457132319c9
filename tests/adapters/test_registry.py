import threading
import time
from dataclasses import dataclass

import pytest

from studio.adapters import AdapterInfo, AdapterSpec, ASRAdapter, System, adapter_ids, get_adapter, register
from studio.adapters.options import options_from_text, options_to_text
from studio.adapters.registry import _specs, loaded_adapters, unload, unregister
from studio.adapters.whisper_ct2 import WhisperOptions
from studio.errors import ConfigError, ModelUnavailable
from tests.conftest import tone


def test_builtin_adapters_are_registered_by_task():
    assert {"whisper-tiny.en", "whisper-base", "pocketsphinx"} <= set(adapter_ids("asr"))
    assert {"piper-joe", "espeak-ng"} <= set(adapter_ids("tts"))
    assert not set(adapter_ids("asr")) & set(adapter_ids("tts"))


def test_unknown_adapter_names_the_alternatives():
    with pytest.raises(ConfigError, match="unknown adapter 'whisper-huge'.*whisper-tiny.en"):
        System.parse("whisper-huge")


@pytest.mark.parametrize(
    "text, message",
    [
        ("beam=3", "unknown option.*beam.*known options: beam_size"),
        ("beam_size=three", "beam_size='three' is not a valid int"),
        ("beam_size=0", "beam_size must be between 1 and 20"),
        ("temperature", "must look like 'name=value'"),
        ("vad_filter=maybe", "not a valid bool"),
    ],
)
def test_bad_options_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        options_from_text(WhisperOptions, text)


def test_options_round_trip_and_label():
    options = options_from_text(WhisperOptions, "beam_size=1, temperature=0.2 language=none")
    assert options == WhisperOptions(beam_size=1, temperature=0.2, language=None)
    assert options_to_text(options) == "beam_size=1 temperature=0.2 language=None"
    assert System("whisper-tiny.en", options).label == "whisper-tiny.en [beam_size=1 temperature=0.2 language=None]"
    assert System.from_mapping("whisper-tiny.en", {"beam_size": 2}, name="tiny b2").label == "tiny b2"


@dataclass(frozen=True)
class _NoOptions:
    pass


_INFO = AdapterInfo(id="test-counting", task="asr", label="counting", options_type=_NoOptions, family="test",
                    decoding="none", model="none", stages=("decoder",))


class _CountingAdapter(ASRAdapter):
    """Loads slowly and counts its loads, to check the registry loads each model once."""

    info = _INFO
    loads = 0

    def __init__(self, device):
        super().__init__(device)
        self.ready = False

    @property
    def loaded(self):
        return self.ready

    def _load(self):
        time.sleep(0.2)
        type(self).loads += 1
        self.ready = True

    def unload(self):
        self.ready = False

    def _recognize(self, samples, options, timer):
        with timer.stage("decoder"):
            pass
        return "ok", {"samples": len(samples)}


def test_concurrent_first_use_loads_once_and_shares_the_instance():
    register(AdapterSpec(_INFO, _CountingAdapter), replace=True)
    try:
        got = []
        threads = [threading.Thread(target=lambda: got.append(get_adapter("test-counting", "cpu"))) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _CountingAdapter.loads == 1
        assert len({id(a) for a in got}) == 1
        result = got[0].transcribe(tone(1.0, 8000))
        assert result.details == {"samples": 16000}  # resampled to 16 kHz before the model
        assert result.load_seconds >= 0.2 and result.processing_seconds < result.load_seconds
        assert set(result.stage_seconds) == {"decoder", "other"}
        unload("test-counting")
        assert got[0] not in loaded_adapters()
        assert get_adapter("test-counting", "cpu") is got[0]  # the same object reloads: never two copies
        assert _CountingAdapter.loads == 2
    finally:
        unregister("test-counting")


def test_unavailable_adapter_says_why():
    register(AdapterSpec(_INFO, _CountingAdapter, lambda: "the test package is not installed"), replace=True)
    try:
        with pytest.raises(ModelUnavailable, match="not available here: the test package is not installed"):
            get_adapter("test-counting")
        assert "test-counting" not in adapter_ids("asr", only_available=True)
    finally:
        _specs.pop("test-counting", None)


def test_device_override_is_validated():
    with pytest.raises(ConfigError, match="device must be one of"):
        get_adapter("pocketsphinx", "tpu")


def test_studio_device_overrides_auto(monkeypatch):
    from studio.timing import resolve_device

    monkeypatch.setenv("STUDIO_DEVICE", "cpu")
    assert resolve_device("auto") == "cpu"
    monkeypatch.setenv("STUDIO_DEVICE", "cuda")
    assert resolve_device("auto") in ("cuda", "cpu")  # falls back to CPU without a GPU
    monkeypatch.setenv("STUDIO_DEVICE", "gpu0")
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda; got 'gpu0'"):
        resolve_device("auto")


def test_a_choice_option_lists_its_choices():
    with pytest.raises(ConfigError, match=r"not a valid choice \(one of greedy, beam, lean"):
        System.parse("torch-whisper-tiny.en", "strategy=magic")
