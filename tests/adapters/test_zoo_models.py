"""Tiny random Hugging Face models, loaded through studio.yaml exactly as a user's, run through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from studio import engine
from studio.adapters import zoo
from studio.bootstrap import build_registry
from studio.audio import Audio
from studio.errors import ConfigError, ModelUnavailable, OutOfMemory, TextError
from tests.adapters.tiny_hf_models import SPEAKER_EMBEDDING_DIM, VOCODER_UPSAMPLING, tiny_model_dirs, write_config
from tests.conftest import tone


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return tiny_model_dirs(tmp_path_factory)


@pytest.fixture
def use(tmp_path):
    """A registry built from a studio.yaml with the given entries, as the app builds it."""
    def build(*models: dict, bundled=True):
        return build_registry(write_config(tmp_path / "studio.yaml", list(models), bundled))

    return build


def speech_like(seconds: float, seed: int = 0) -> Audio:
    return Audio((0.1 * np.random.default_rng(seed).standard_normal(int(16000 * seconds))).astype(np.float32), 16000)


def test_ctc_model_recognises_through_the_engine_with_stages(tiny, use):
    registry = use({"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"]), "device": "cpu"})
    result = engine.recognize(registry, registry.system("tiny-ctc"), speech_like(1.0))
    assert isinstance(result.text, str)
    assert set(result.stage_seconds) >= {"features", "acoustic_model", "ctc_decode"}
    assert all(seconds >= 0 for seconds in result.stage_seconds.values())
    assert result.details["frames"] == 798  # 16000 samples: (16000 - 10) // 5 + 1 = 3199, (3199 - 8) // 4 + 1 = 798
    assert result.details["dtype"] == "float32" and result.device == "cpu"
    assert result.load_seconds > 0
    assert engine.score_recognition(result, "a reference sentence").value("wer") is not None


def test_ctc_batch_trims_each_clip_to_its_own_frames(tiny, use):
    registry = use({"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"])})
    adapter = registry.get("tiny-ctc", "cpu")
    short, long = speech_like(0.5, 1), speech_like(1.0, 2)
    batch = adapter.transcribe_batch([short, long])
    assert [r.details["frames"] for r in batch] == [adapter.transcribe(c).details["frames"] for c in (short, long)]
    assert batch[0].details["batch_size"] == 2


def test_seq2seq_whisper_times_encoder_and_decoder_and_obeys_options(tiny, use):
    registry = use({"id": "tiny-whisper", "type": "hf-seq2seq", "path": str(tiny["whisper"]),
         "options": {"max_new_tokens": 5}})
    system = registry.system("tiny-whisper", "beam_size=2")
    assert system.options.max_new_tokens == 5  # studio.yaml's defaults are the options' defaults
    result = engine.recognize(registry, system, speech_like(1.0))
    assert {"features", "encoder", "decoder", "detokenize"} <= set(result.stage_seconds)
    assert result.stage_seconds["encoder"] > 0 and result.stage_seconds["decoder"] > 0
    assert 0 < result.details["tokens"] <= 5
    with pytest.raises(ConfigError, match="at most 60 tokens"):
        engine.recognize(registry, registry.system("tiny-whisper", "max_new_tokens=100"), speech_like(0.5))
    with pytest.raises(ConfigError, match="no language tokens"):
        engine.recognize(registry, registry.system("tiny-whisper", "language=de"), speech_like(0.5))


def test_vits_synthesises_repeatably_with_per_stage_timings(tiny, use):
    registry = use({"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])},
        {"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"])})
    first = engine.synthesize(registry, registry.system("tiny-vits"), "hello there, world.")
    scored = engine.score_synthesis(first, "hello there, world.", judge=engine.judge_for(registry, registry.system("tiny-ctc")),
                                    metrics=("wer", "latency"))
    assert scored.value("wer") is not None and scored.judge_transcription.adapter_id == "tiny-ctc"
    again = engine.synthesize(registry, registry.system("tiny-vits"), "hello there, world.")
    assert first.audio.sample_rate == 16000 and first.audio.duration > 0
    np.testing.assert_array_equal(first.audio.samples, again.audio.samples)  # seed=0 by default
    assert {"tokenize", "text_encoder", "duration_predictor", "flow", "vocoder"} <= set(first.stage_seconds)
    assert first.details["dtype"] == "float32"
    slow = engine.synthesize(registry, registry.system("tiny-vits", "speaking_rate=0.5"), "hello there, world.")
    fast = engine.synthesize(registry, registry.system("tiny-vits", "speaking_rate=2"), "hello there, world.")
    assert fast.audio.duration < slow.audio.duration


def test_vits_says_when_no_character_is_in_its_vocabulary(tiny, use):
    registry = use({"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])})
    with pytest.raises(TextError, match="not in its vocabulary"):
        engine.synthesize(registry, registry.system("tiny-vits"), "2024 — 42%")


def test_speecht5_is_autoregressive_with_a_vocoder_stage(tiny, use):
    registry = use({"id": "tiny-t5", "type": "hf-speecht5", "path": str(tiny["speecht5"]), "vocoder": {"path": str(tiny["hifigan"])},
         "speaker_embedding": str(tiny["speaker"]), "options": {"threshold": 1.0, "maxlenratio": 2.0}})
    result = engine.synthesize(registry, registry.system("tiny-t5"), "hello there.")
    frames = result.details["frames"]
    assert 0 < frames <= result.details["tokens"] * 2  # maxlenratio 2 caps the spectrogram length
    assert len(result.audio.samples) == frames * VOCODER_UPSAMPLING
    assert {"tokenize", "encoder", "decoder", "vocoder"} <= set(result.stage_seconds)


def test_speecht5_rejects_a_speaker_embedding_of_the_wrong_size(tiny, use, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros(SPEAKER_EMBEDDING_DIM + 1, np.float32))
    registry = use({"id": "tiny-t5", "type": "hf-speecht5", "path": str(tiny["speecht5"]),
         "vocoder": {"path": str(tiny["hifigan"])}, "speaker_embedding": str(tmp_path / "wrong.npy")})
    with pytest.raises(ConfigError, match=f"has {SPEAKER_EMBEDDING_DIM + 1} values"):
        engine.synthesize(registry, registry.system("tiny-t5"), "hello")
    status = {s.id: s for s in zoo.model_statuses(registry)}["tiny-t5"]
    assert status.state == "unavailable" and "values" in status.reason


def test_models_load_unload_and_report_memory(tiny, use):
    registry = use({"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"])})
    assert {s.id: s for s in zoo.model_statuses(registry)}["tiny-ctc"].state == "unloaded"
    registry.load("tiny-ctc", "cpu")
    status = {s.id: s for s in zoo.model_statuses(registry)}["tiny-ctc"]
    assert status.state == "loaded" and status.device == "cpu float32" and status.weights_mb > 0
    registry.unload("tiny-ctc")
    assert "tiny-ctc" not in [a.info.id for a in registry.loaded()]
    assert {s.id: s for s in zoo.model_statuses(registry)}["tiny-ctc"].state == "unloaded"


def test_a_folder_of_the_wrong_type_fails_to_load_with_a_hint_and_stays_listed(tiny, use):
    registry = use({"id": "not-ctc", "type": "hf-ctc", "path": str(tiny["whisper"])},
        {"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])})
    with pytest.raises(ModelUnavailable, match="holds a 'whisper' model; is 'type: hf-ctc' right"):
        engine.recognize(registry, registry.system("not-ctc"), speech_like(0.5))
    statuses = {s.id: s for s in zoo.model_statuses(registry)}
    assert statuses["not-ctc"].state == "unavailable" and "whisper" in statuses["not-ctc"].reason
    assert engine.synthesize(registry, registry.system("tiny-vits"), "hello").audio.duration > 0  # the rest keeps working


def test_running_out_of_memory_is_a_clear_studio_error(tiny, use, monkeypatch):
    import torch

    registry = use({"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"])})
    adapter = registry.get("tiny-ctc", "cpu")

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(adapter.model, "forward", exhausted)
    with pytest.raises(OutOfMemory, match="ran out of host memory while running.*Unload other models"):
        adapter.transcribe(speech_like(0.5))


@pytest.mark.models
def test_faster_whisper_type_loads_a_ct2_folder(use):
    from studio.adapters.bundled_weights import whisper_tiny_en_dir

    registry = use({"id": "my-whisper", "type": "faster-whisper", "path": str(whisper_tiny_en_dir()),
         "options": {"beam_size": 1}}, bundled=False)
    result = engine.recognize(registry, registry.system("my-whisper"), tone(1.0))
    assert result.options.beam_size == 1 and "encoder" in result.stage_seconds
    assert result.details["compute_type"] == "int8"
    assert {s.id: s for s in zoo.model_statuses(registry)}["my-whisper"].device == "cpu int8"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.requires_cuda
def test_cuda_half_precision_reports_peak_gpu_memory(tiny, use, dtype):
    registry = use({"id": "tiny-whisper", "type": "hf-seq2seq", "path": str(tiny["whisper"]), "device": "cuda", "dtype": dtype,
         "options": {"max_new_tokens": 5}},
        {"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"]), "device": "cuda", "dtype": dtype})
    asr = engine.recognize(registry, registry.system("tiny-whisper"), speech_like(1.0))
    tts = engine.synthesize(registry, registry.system("tiny-vits"), "hello there")
    for result in (asr, tts):
        assert result.device == "cuda" and result.details["dtype"] == dtype
        assert result.details["peak_gpu_memory_mb"] > 0


def test_running_out_of_memory_while_loading_marks_the_model_unavailable(tiny, use, monkeypatch):
    import torch
    from transformers import VitsModel

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    registry = use({"id": "tiny-vits", "type": "hf-vits", "path": str(tiny["vits"])})
    monkeypatch.setattr(VitsModel, "from_pretrained", exhausted)
    with pytest.raises(OutOfMemory, match="tiny-vits ran out of host memory while loading"):
        engine.synthesize(registry, registry.system("tiny-vits"), "hello")
    status = {s.id: s for s in zoo.model_statuses(registry)}["tiny-vits"]
    assert status.state == "unavailable" and "out of host memory" in status.reason
    monkeypatch.undo()
    registry.load("tiny-vits", "cpu")  # retrying from the Models panel clears the failure
    assert {s.id: s for s in zoo.model_statuses(registry)}["tiny-vits"].state == "loaded"
