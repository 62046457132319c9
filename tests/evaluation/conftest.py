"""Helpers for evaluation tests: the committed demo set and small configs written on the fly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DEMO_SET = Path(__file__).resolve().parents[2] / "assets" / "demo_set"


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A private copy of the demo set that a test may break."""
    target = tmp_path / "demo_set"
    shutil.copytree(DEMO_SET, target)
    return target


def write_manifest(folder: Path, rows: list[dict | str], name: str = "manifest.jsonl") -> Path:
    path = folder / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def write_config(folder: Path, body: str, name: str = "eval.yaml") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def echo_registry():
    """A fresh registry with a fake ASR adapter `test-echo`: says "the quick brown fox", refuses clips under
    one second, and decodes a batch in one call (so one bad clip fails the batch)."""
    from dataclasses import dataclass

    from studio.adapters import AdapterSpec, ASRAdapter
    from studio.bootstrap import build_registry
    from studio.errors import AudioError
    from studio.types import AdapterInfo

    @dataclass(frozen=True)
    class EchoOptions:
        words: int = 4

    class EchoASR(ASRAdapter):
        info = AdapterInfo(id="test-echo", task="asr", label="echo (test)", options_type=EchoOptions,
                           family="test", decoding="none", model="none")

        @property
        def loaded(self) -> bool:
            return True

        def _load(self) -> None:
            pass

        def batch_limit(self, options):
            return None

        def _recognize_batch(self, clips, options, timer):  # one call for the batch: one bad clip fails it
            return [self._recognize(clip, options, timer) for clip in clips]

        def _recognize(self, samples, options, timer):
            if len(samples) < 16000:
                raise AudioError("too short for the echo adapter")
            return " ".join("the quick brown fox".split()[:options.words]), {}

    registry = build_registry()
    registry.add(AdapterSpec(EchoASR.info, EchoASR))
    return registry
