import threading
import time
from dataclasses import dataclass

import pytest

from studio.adapters import AdapterSpec, ASRAdapter, Registry
from studio.adapters.options import options_from_text, options_to_text
from studio.adapters.whisper_ct2 import WhisperOptions
from studio.errors import ConfigError, ModelUnavailable
from studio.types import AdapterInfo
from tests.conftest import tone


def test_builtin_adapters_are_registered_by_task(registry):
    assert {"whisper-tiny.en", "whisper-base", "pocketsphinx"} <= set(registry.ids("asr"))
    assert {"piper-joe", "espeak-ng"} <= set(registry.ids("tts"))
    assert not set(registry.ids("asr")) & set(registry.ids("tts"))


def test_unknown_adapter_names_the_alternatives(registry):
    with pytest.raises(ConfigError, match="unknown adapter 'whisper-huge'.*whisper-tiny.en"):
        registry.system("whisper-huge")


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


def test_options_round_trip_and_label(registry):
    options = options_from_text(WhisperOptions, "beam_size=1, temperature=0.2 language=none")
    assert options == WhisperOptions(beam_size=1, temperature=0.2, language=None)
    assert options_to_text(options) == "beam_size=1 temperature=0.2 language=None"
    system = registry.system("whisper-tiny.en", "beam_size=1, temperature=0.2 language=none")
    assert system.options == options and system.task == "asr"
    assert system.label == "whisper-tiny.en [beam_size=1 temperature=0.2 language=None]"
    assert registry.system("whisper-tiny.en", {"beam_size": 2}, name="tiny b2").label == "tiny b2"


def test_options_start_from_the_adapters_defaults():
    """A studio.yaml entry's options are its defaults: parsing starts from them, and labels show what differs."""
    registry = Registry()
    defaults = WhisperOptions(beam_size=2)
    registry.add(AdapterSpec(AdapterInfo(id="tiny-b2", task="asr", label="b2", options_type=WhisperOptions,
                                         family="test", decoding="none", model="none", default_options=defaults),
                             lambda device: None))
    assert registry.system("tiny-b2").options == defaults
    assert registry.system("tiny-b2").label == "tiny-b2"
    changed = registry.system("tiny-b2", "temperature=0.2")
    assert changed.options == WhisperOptions(beam_size=2, temperature=0.2)
    assert changed.label == "tiny-b2 [temperature=0.2]"
    assert registry.system("tiny-b2", {"beam_size": 5}).options_text == "beam_size=5"


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
    registry = Registry()
    registry.add(AdapterSpec(_INFO, _CountingAdapter))
    _CountingAdapter.loads = 0
    got = []
    threads = [threading.Thread(target=lambda: got.append(registry.get("test-counting", "cpu"))) for _ in range(8)]
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
    registry.unload("test-counting")
    assert got[0] not in registry.loaded()
    assert registry.get("test-counting", "cpu") is got[0]  # the same object reloads: never two copies
    assert _CountingAdapter.loads == 2


def test_an_id_is_registered_once():
    registry = Registry()
    registry.add(AdapterSpec(_INFO, _CountingAdapter))
    with pytest.raises(ConfigError, match="'test-counting' is registered twice"):
        registry.add(AdapterSpec(_INFO, _CountingAdapter))


def test_unavailable_adapter_says_why():
    registry = Registry()
    registry.add(AdapterSpec(_INFO, _CountingAdapter, lambda: "the test package is not installed"))
    with pytest.raises(ModelUnavailable, match="not available here: the test package is not installed"):
        registry.get("test-counting")
    assert "test-counting" not in registry.ids("asr", only_available=True)
    assert registry.ids("asr") == ["test-counting"]


def test_device_override_is_validated(registry):
    with pytest.raises(ConfigError, match="device must be one of"):
        registry.get("pocketsphinx", "tpu")


def test_studio_device_overrides_auto(monkeypatch):
    from studio.timing import resolve_device

    monkeypatch.setenv("STUDIO_DEVICE", "cpu")
    assert resolve_device("auto") == "cpu"
    monkeypatch.setenv("STUDIO_DEVICE", "cuda")
    assert resolve_device("auto") in ("cuda", "cpu")  # falls back to CPU without a GPU
    monkeypatch.setenv("STUDIO_DEVICE", "gpu0")
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda; got 'gpu0'"):
        resolve_device("auto")


def test_a_choice_option_lists_its_choices(registry):
    with pytest.raises(ConfigError, match=r"not a valid choice \(one of greedy, beam, lean"):
        registry.system("torch-whisper-tiny.en", "strategy=magic")


class _BrokenAdapter(_CountingAdapter):
    def _load(self):
        raise ModelUnavailable("the weights are damaged")


def test_a_model_that_fails_to_build_is_listed_with_the_reason_until_load_tries_again():
    registry = Registry()
    registry.add(AdapterSpec(_INFO, _BrokenAdapter))
    with pytest.raises(ModelUnavailable, match="damaged"):
        registry.get("test-counting")
    assert "damaged" in registry.unavailable_reason("test-counting")
    assert registry.ids("asr", only_available=True) == []  # the pickers stop offering it
    with pytest.raises(ModelUnavailable, match="not available here: .*damaged"):
        registry.get("test-counting")  # not rebuilt on every call
    with pytest.raises(ModelUnavailable, match="damaged"):
        registry.load("test-counting")  # the Load button tries again
