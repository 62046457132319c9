"""Fixtures for the decoding lab: converted models load once per session (conversion is cached on disk)."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def speech_clips(piper_speech) -> list:
    """The Piper test sentences as 16 kHz float32 arrays."""
    return [audio.resample(16000).samples for _, audio in piper_speech]


@pytest.fixture(scope="session")
def tiny_lab(registry):
    """The lab of the registry's `torch-whisper-tiny.en`: its first pass is the registry's faster-whisper tiny.en."""
    return registry.get("torch-whisper-tiny.en", "cpu").decoding


@pytest.fixture(scope="session")
def base_lab(registry):
    return registry.get("torch-whisper-base", "cpu").decoding


@pytest.fixture(autouse=True)
def _quiet_quantisation_warning():
    with warnings.catch_warnings():  # torch deprecates quint8 tensor creation, which quantize_dynamic still uses
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        yield
