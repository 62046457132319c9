"""The converted PyTorch Whisper gives CTranslate2's greedy tokens on the same log-mel features."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from studio.decoding.convert import MODELS, load_whisper, read_ct2_model
from studio.errors import ModelUnavailable

pytestmark = pytest.mark.models


def _ct2_greedy(name: str, features: np.ndarray, prompt: list[int]) -> list[list[int]]:
    import ctranslate2

    model = ctranslate2.models.Whisper(str(MODELS[name].ct2_dir()), device="cpu", compute_type="float32")
    results = model.generate(ctranslate2.StorageView.from_array(np.ascontiguousarray(features)),
                             [prompt] * len(features), beam_size=1, suppress_blank=True, suppress_tokens=[-1],
                             max_length=448)
    return [r.sequences_ids[0] for r in results]


@pytest.mark.parametrize("name", ["tiny.en", "base"])
def test_greedy_tokens_match_ctranslate2_fp32(name, speech_clips):
    from transformers import WhisperFeatureExtractor

    whisper = load_whisper(name)
    features = WhisperFeatureExtractor(feature_size=80)(speech_clips, sampling_rate=16000,
                                                        return_tensors="np").input_features
    prompt = whisper.prompt()
    expected = _ct2_greedy(name, features, prompt)
    with torch.inference_mode():
        out = whisper.model.generate(input_features=torch.from_numpy(features), do_sample=False, num_beams=1,
                                     max_new_tokens=200, **whisper.generate_kwargs())
    eot = whisper.special["eot"]
    got = [[t for t in row if t != eot and t not in prompt] for row in out.tolist()]
    assert got == expected
    assert all(len(tokens) > 3 for tokens in got)


def test_control_tokens_differ_between_english_and_multilingual():
    tiny, base = load_whisper("tiny.en"), load_whisper("base")
    assert (tiny.special["sot"], tiny.special["eot"]) == (50257, 50256)
    assert (base.special["sot"], base.special["eot"]) == (50258, 50257)
    assert not tiny.multilingual and base.multilingual
    assert tiny.prompt() == [50257, 50362]
    assert base.prompt() == [50258, 50259, 50359, 50363]


def test_reader_rejects_unknown_format_version(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(struct.pack("<I", 5) + b"\0" * 16)
    with pytest.raises(ModelUnavailable, match="v5"):
        read_ct2_model(path)


def test_conversion_is_cached_as_safetensors():
    load_whisper("tiny.en")
    assert (MODELS["tiny.en"].converted_dir / "model.safetensors").stat().st_size > 100e6
