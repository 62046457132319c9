"""The long-form evaluation set: 2-6 minute recordings the studio makes with its own voices.

The texts are committed (`assets/longform/*.txt`, public-domain prose written by
`assets/make_longform_texts.py`); the audio is made on demand into the studio cache
(`STUDIO_CACHE_DIR/longform-v1/`), because it is deterministic (Piper with zero noise, hibari
with a fixed seed) and quick (about three minutes for 12 minutes of speech on two cores), while the
16 kHz WAVs would add about 23 MB to the repository. A config names the set with
`generated: longform` instead of a path (`make_generated`); `studio eval` and the Evaluate tab make it before the
first run and reuse it afterwards.

>>> [r.id for r in LONGFORM_RECORDINGS]
['longform-01', 'longform-02', 'longform-03']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.adapters.bundled_weights import cache_dir
from studio.adapters.registry import Registry
from studio.assets import ASSETS
from studio.audio import Audio
from studio.errors import ConfigError

TEXTS = ASSETS / "longform"
SAMPLE_RATE = 16000
SENTENCE_PAUSE = 0.25  # seconds of silence between sentences, on top of the voice's own
PARAGRAPH_PAUSE = 0.75  # between paragraphs (one a line in the text file)
_VERSION = 1  # bump when the texts, voices or pauses change, so cached audio is made again
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")


@dataclass(frozen=True)
class Voice:
    """A studio voice with options that make the same samples on every run."""

    adapter: str
    options: dict = field(default_factory=dict)


PIPER_JOE = Voice("piper-joe", {"noise_scale": 0.0, "noise_w_scale": 0.0})
HIBARI = Voice("hibari-heart", {"seed": 0})


@dataclass(frozen=True)
class LongformRecording:
    id: str
    voice: Voice

    @property
    def text(self) -> str:
        return (TEXTS / f"{self.id}.txt").read_text(encoding="utf-8").strip()


LONGFORM_RECORDINGS = (
    LongformRecording("longform-01", PIPER_JOE),  # about 2 minutes
    LongformRecording("longform-02", HIBARI),  # about 4 minutes
    LongformRecording("longform-03", PIPER_JOE),  # about 6 minutes
)
GENERATED_SETS = ("longform",)  # names a config may give as `generated:`


def speak(text: str, voice: Voice, registry: Registry) -> Audio:
    """`text` spoken sentence by sentence (the voices take a limited text at once), with pauses, at 16 kHz.

    Lines of `text` are paragraphs; a longer pause separates them."""
    adapter = registry.get(voice.adapter, "cpu")
    options = adapter.info.options_type(**voice.options)
    pieces = []
    for paragraph in (line for line in text.splitlines() if line.strip()):
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            audio = adapter.synthesize(sentence, options).audio.resample(SAMPLE_RATE)
            pieces += [audio.samples, np.zeros(int(SENTENCE_PAUSE * SAMPLE_RATE), np.float32)]
        pieces.append(np.zeros(int((PARAGRAPH_PAUSE - SENTENCE_PAUSE) * SAMPLE_RATE), np.float32))
    return Audio(np.concatenate(pieces).astype(np.float32), SAMPLE_RATE)


def generated_manifest_path(name: str) -> Path:
    """Where a set the studio makes itself keeps its manifest (nothing is made here)."""
    if name not in GENERATED_SETS:
        raise ConfigError(f"unknown generated dataset {name!r}; choose one of {', '.join(GENERATED_SETS)}")
    return cache_dir() / f"{name}-v{_VERSION}" / "manifest.jsonl"


def make_generated(name: str, registry: Registry, folder: Path | None = None) -> Path:
    """The set's manifest (`audio_filepath`, `duration`, `text`, `speaker`), made first if it is not there yet.

    The manifest is written last, so an interrupted run leaves no manifest and the next call starts over."""
    manifest = folder / "manifest.jsonl" if folder else generated_manifest_path(name)
    if manifest.is_file():
        return manifest
    missing = [r.voice.adapter for r in LONGFORM_RECORDINGS if r.voice.adapter not in registry]
    if missing:
        raise ConfigError(f"the {name} set is spoken by {', '.join(sorted(set(missing)))}, which this studio does "
                          "not offer (its studio.yaml leaves it out); offer it to make the set")
    (manifest.parent / "wav").mkdir(parents=True, exist_ok=True)
    rows = []
    for recording in LONGFORM_RECORDINGS:
        text = recording.text
        audio = speak(text, recording.voice, registry)
        audio_name = f"wav/{recording.id}.wav"
        (manifest.parent / audio_name).write_bytes(audio.to_wav_bytes())
        rows.append({"audio_filepath": audio_name, "duration": round(audio.duration, 3),
                     "text": " ".join(text.split()), "speaker": recording.voice.adapter})
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return manifest
