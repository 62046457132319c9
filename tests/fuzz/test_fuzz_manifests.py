"""Fuzzed evaluation sets: JSONL manifests (ASR and TTS), text lists, LibriSpeech folders, transcript-beside folders.

Each example writes its files to disk beside a few audio files (one good, one corrupt, one empty) and loads
them as a run would. The loader either returns a well-formed set or raises `ConfigError` naming the file
(JSONL: the manifest and line; folders: a path inside the folder).
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.errors import ConfigError
from studio.evaluation.datasets import Dataset, Prompt, Utterance, load_dataset
from tests.fuzz.fuzz_inputs import (DANGEROUS_STRINGS, TRICKY_STRINGS, jsonl_bytes, near_valid,
                                    text)


def _wav(seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(8000 * seconds)) / 8000
    soundfile.write(buffer, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format="WAV")
    return buffer.getvalue()


GOOD_WAV = _wav()
AUDIO_CONTENTS = (GOOD_WAV, GOOD_WAV, b"", b"RIFF\x00\x00\x00\x00WAVEfmt ", GOOD_WAV[:60], b"\x00" * 100)
AUDIO_FILES = {"a.wav": GOOD_WAV, "sub/c.wav": GOOD_WAV, "corrupt.flac": b"fLaC junk", "empty.wav": b""}


@pytest.fixture(scope="module")
def audio_folder(tmp_path_factory) -> Path:
    """Audio files that manifests point at; each example rewrites only the manifest beside them."""
    folder = tmp_path_factory.mktemp("manifest-fuzz")
    for name, data in AUDIO_FILES.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _assert_wellformed(dataset: Dataset, within: Path | None, keep_unreadable: bool) -> None:
    assert dataset.items and len({item.id for item in dataset.items}) == len(dataset.items)
    for item in dataset.items:
        assert isinstance(item.id, str) and isinstance(item.text, str) and item.text.strip()
        if isinstance(item, Utterance):
            assert math.isfinite(item.duration) and (item.duration > 0 or keep_unreadable), item
            assert item.audio_filepath.is_file() and isinstance(item.speaker, (str, type(None)))
            audio = item.audio_filepath
        else:
            assert isinstance(item, Prompt)
            audio = item.reference_audio
        if within is not None and audio is not None:
            assert within.resolve() in audio.parents, f"{audio} is outside {within}"


_ASR_ROWS = st.sampled_from([
    {"audio_filepath": "a.wav", "duration": 0.2, "text": "hello there", "speaker": "s1", "id": "u1"},
    {"audio_filepath": "sub/c.wav", "text": "the quick brown fox"},
    {"audio_filepath": "corrupt.flac", "duration": 1.5, "text": "x"},
    {"audio_filepath": "empty.wav", "text": "nothing here"},
])


@settings(max_examples=700)
@given(jsonl_bytes(_ASR_ROWS), st.booleans(), st.booleans())
def test_asr_manifest_loads_or_names_file_and_line(audio_folder, content, keep_unreadable, inside_upload):
    manifest = audio_folder / "manifest.jsonl"
    manifest.write_bytes(content)
    within = audio_folder if inside_upload else None
    try:
        dataset = load_dataset(manifest, "asr", keep_unreadable=keep_unreadable, within=within)
    except ConfigError as error:
        assert str(manifest) in str(error), f"{error} does not name the manifest"
        return
    _assert_wellformed(dataset, within, keep_unreadable)


_TTS_ROWS = st.sampled_from([
    {"text": "Say this.", "id": "p1"}, {"text": "And this, like that voice.", "reference_audio": "a.wav"},
    {"text": "A corrupt voice.", "reference_audio": "corrupt.flac"},
])


@settings(max_examples=300)
@given(jsonl_bytes(_TTS_ROWS), st.booleans())
def test_tts_manifest_loads_or_names_file_and_line(audio_folder, content, inside_upload):
    manifest = audio_folder / "prompts.jsonl"
    manifest.write_bytes(content)
    within = audio_folder if inside_upload else None
    try:
        dataset = load_dataset(manifest, "tts", within=within)
    except ConfigError as error:
        assert str(manifest) in str(error), f"{error} does not name the manifest"
        return
    _assert_wellformed(dataset, within, False)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(TRICKY_STRINGS) | text, max_size=4).map(lambda ls: "\n".join(ls).encode("utf-8"))
       | st.binary(max_size=100))
def test_tts_text_list_loads_or_names_the_file(audio_folder, content):
    listing = audio_folder / "prompts.txt"
    listing.write_bytes(content)
    try:
        dataset = load_dataset(listing, "tts")
    except ConfigError as error:
        assert str(listing) in str(error), f"{error} does not name the file"
        return
    _assert_wellformed(dataset, None, False)


# A LibriSpeech chapter: `SPEAKER-CHAPTER-NNNN TEXT` lines in SPEAKER-CHAPTER.trans.txt beside the audio.
_KEYS = ("19-198-0001", "19-198-0002", "19-198-0003")
_LIBRISPEECH_LINES = st.sampled_from([[f"{key} SOME WORDS {n}" for n, key in enumerate(_KEYS[:count])]
                                      for count in (1, 2, 3)])
_FUZZ_KEYS = st.sampled_from(DANGEROUS_STRINGS + ("../19-198-0001", "sub/19-198-0001", ".", "..", "/etc/x", "")) | text


@st.composite
def librispeech_folder(draw: st.DrawFn) -> dict[str, bytes]:
    lines = draw(near_valid(_LIBRISPEECH_LINES))
    lines = [line if draw(st.integers(0, 4)) else draw(_FUZZ_KEYS) + line[11:]
             for line in (lines if isinstance(lines, list) else [lines]) if isinstance(line, str)]
    listing = "\n".join(lines).encode("utf-8", "surrogatepass") if draw(st.integers(0, 6)) else draw(st.binary())
    files = {"19/198/19-198.trans.txt": listing}
    for key in _KEYS:
        if draw(st.integers(0, 3)):
            files[f"19/198/{key}{draw(st.sampled_from(('.flac', '.wav')))}"] = draw(st.sampled_from(AUDIO_CONTENTS))
    return files


@st.composite
def plain_folder(draw: st.DrawFn) -> dict[str, bytes]:
    names = draw(st.lists(st.sampled_from(("utt1", "utt 2", "sub/utt3", "é" * 60, ".hidden", "x" * 200, "a.b", "-")),
                          min_size=1, max_size=3, unique=True))
    files = {}
    for name in names:
        files[f"{name}{draw(st.sampled_from(('.wav', '.flac', '.WAV', '.mp3')))}"] = draw(st.sampled_from(AUDIO_CONTENTS))
        suffix = draw(st.sampled_from((".txt", ".lab", ".txt", None)))
        if suffix:
            files[f"{name}{suffix}"] = draw(st.sampled_from(TRICKY_STRINGS).map(str.encode) | text.map(str.encode)
                                            | st.binary(max_size=20))
    return files


def _load_folder(files: dict[str, bytes], keep_unreadable: bool) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "set"
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        try:
            dataset = load_dataset(root, "asr", keep_unreadable=keep_unreadable, within=root)
        except ConfigError as error:
            assert str(root) in str(error), f"{error} names no file of the folder"
            return
        _assert_wellformed(dataset, root, keep_unreadable)


@settings(max_examples=500)
@given(librispeech_folder(), st.booleans())
def test_librispeech_folder_loads_or_names_the_file(files, keep_unreadable):
    _load_folder(files, keep_unreadable)


@settings(max_examples=500)
@given(plain_folder(), st.booleans())
def test_transcripts_beside_audio_load_or_name_the_file(files, keep_unreadable):
    _load_folder(files, keep_unreadable)
