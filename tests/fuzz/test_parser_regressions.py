"""One plain test per parser bug the fuzzers (or their review) found: each input once escaped as a raw Python
error or was accepted with a nonsense value; now it is a studio error naming the file or the field."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile

from studio.adapters.options import options_from_mapping, options_from_text
from studio.adapters.zoo_config import parse_config, read_config
from studio.errors import AudioError, ConfigError, UploadError
from studio.evaluation.config import load_config
from studio.evaluation.datasets import load_dataset
from studio.listening.sources import from_zip

DATASET_AND_SYSTEM = "datasets: [set/manifest.jsonl]\nsystems: [pocketsphinx]\n"


@dataclass(frozen=True)
class _Options:
    beam_size: int = 1
    temperature: float = 0.0


@pytest.mark.parametrize("values, named", [
    ({None: 1, "x": 2}, "None"),  # mixed key types: sorted() raised TypeError
    ({"temperature": float("nan")}, "temperature"),  # NaN passed every range check
    ({"temperature": 10 ** 400}, "temperature"),  # float() overflowed
])
def test_option_mappings_refuse_odd_keys_and_numbers(values, named):
    with pytest.raises(ConfigError, match=named):
        options_from_mapping(_Options, values)


@pytest.mark.parametrize("text", ["beam_size=1.5e400", "temperature=inf", "temperature=nan"])
def test_option_text_refuses_overflowing_and_non_finite_numbers(text):
    with pytest.raises(ConfigError, match=text.partition("=")[0]):
        options_from_text(_Options, text)


@pytest.mark.parametrize("body, message", [
    (b"\x80" + DATASET_AND_SYSTEM.encode(), ": not UTF-8 text"),
    (DATASET_AND_SYSTEM + "limit: .inf\n", ":3: limit must be a whole number"),
    (DATASET_AND_SYSTEM + "warmup: .nan\n", ":3: warmup must be a whole number"),
    (DATASET_AND_SYSTEM + "batch_seconds: .nan\n", ":3: batch_seconds must be a number"),
    (DATASET_AND_SYSTEM + f"batch_seconds: {10 ** 400}\n", ":3: batch_seconds is too large"),
    (DATASET_AND_SYSTEM + "name: !!bool maybe\n", ":3: not valid YAML \\(cannot read 'maybe' as bool"),
    (DATASET_AND_SYSTEM + f"name: {'1' * 5000}\n", ":3: not valid YAML \\(cannot read '1111"),
    ("datasets: [{path: x, name: [a]}]\nsystems: [pocketsphinx]\n", ":1: a dataset name must be text"),
    ("datasets: [{path: x, 1: a, b: c}]\nsystems: [pocketsphinx]\n", ":1: unknown dataset key 1"),
    ("datasets: [x]\nsystems: [{adapter: pocketsphinx, 1: a, b: c}]\n", ":2: unknown system key 1"),
    ('datasets: ["a\\0b"]\nsystems: [pocketsphinx]\n', ":1: the dataset path 'a\\\\x00b' holds a NUL"),
    (DATASET_AND_SYSTEM + "systems: [whisper-tiny.en]\n", ":3: not valid YAML \\(the key 'systems' appears twice"),
])
def test_eval_config_errors_name_file_and_line(tmp_path, registry, body, message):
    path = tmp_path / "eval.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    with pytest.raises(ConfigError, match=f"eval.yaml{message}"):
        load_config(path, registry)


def test_model_config_errors_name_the_file_or_the_entry(tmp_path):
    path = tmp_path / "studio.yaml"
    path.write_text("models:\n  - id: x\n    type: hf-ctc\n    path: 0x" + "f" * 5000 + "\n")
    with pytest.raises(ConfigError, match="studio.yaml:4: not valid YAML"):  # str() of it raised ValueError
        read_config(path)
    with pytest.raises(ConfigError, match="unknown key\\(s\\) 1, b"):
        parse_config({1: "a", "b": 2}, path)
    entries = [{"id": "home", "type": "hf-ctc", "path": "~nonexistent_user_xyz/x"},
               {"id": "nul", "type": "hf-ctc", "path": "a\x00b"},
               {"id": "keys", "type": "hf-ctc", "path": "x", 1: 2, "b": 3}]
    broken = parse_config({"models": entries}, path).broken
    assert [b.name for b in broken] == ["home", "nul", "keys"]
    assert "is not a usable path" in broken[0].reason and "is not a usable path" in broken[1].reason
    assert "unknown key(s) 1, b" in broken[2].reason


def _wav(seconds: float = 0.2, amplitude: float = 0.3) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(8000 * seconds)) / 8000
    soundfile.write(buffer, (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format="WAV")
    return buffer.getvalue()


@pytest.mark.parametrize("line, message", [
    (b"\x80", "manifest.jsonl: not UTF-8 text"),
    ("[" * 5000, "manifest.jsonl:1: not a JSON object"),
    ('{"audio_filepath": "a.wav", "text": "x", "duration": 1' + "0" * 5000 + "}", "manifest.jsonl:1: not a JSON"),
    ('{"audio_filepath": "a.wav", "text": "x", "duration": NaN}', "manifest.jsonl:1: not a JSON object"),
    ('{"audio_filepath": "a.wav", "text": "x", "duration": 1e400}', "manifest.jsonl:1: duration must be a positive"),
    (json.dumps({"audio_filepath": "a\x00b", "text": "x"}), "manifest.jsonl:1: the file name 'a\\\\x00b' holds a NUL"),
    (json.dumps({"audio_filepath": "x" * 300, "text": "x"}), "manifest.jsonl:1: 'x+'... is not a usable file name"),
])
def test_manifest_errors_name_file_and_line(tmp_path, line, message):
    (tmp_path / "a.wav").write_bytes(_wav())
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(line if isinstance(line, bytes) else line.encode())
    with pytest.raises(ConfigError, match=message):
        load_dataset(manifest, "asr")


def test_librispeech_ids_that_are_paths_or_too_long_are_refused(tmp_path):
    outside = tmp_path / "other-upload"
    outside.mkdir()
    (outside / "secret.wav").write_bytes(_wav())
    chapter = tmp_path / "set" / "19" / "198"
    chapter.mkdir(parents=True)
    listing = chapter / "19-198.trans.txt"
    for key in ("../../../other-upload/secret", "x" * 300):  # the first once read audio outside the folder
        listing.write_text(f"{key} HELLO\n")
        with pytest.raises(ConfigError, match="19-198.trans.txt:1: .* is not an utterance ID"):
            load_dataset(tmp_path / "set", "asr")
    listing.write_bytes(b"\x80")
    with pytest.raises(ConfigError, match="19-198.trans.txt: not UTF-8 text"):
        load_dataset(tmp_path / "set", "asr")


def _zip(path, members: dict[str, bytes], patch=None):
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            zipped.writestr(info, data)
            if patch and name == "b/x.wav":
                patch(zipped.infolist()[-1])
    return path


def _encrypted(info):
    info.flag_bits |= 0x1


def _method_99(info):
    info.compress_type = 99


@pytest.mark.parametrize("members, patch, error, message", [
    ({"a/x.wav": _wav(), "b/x.wav": _wav(amplitude=0.0)}, None, AudioError, "b/x.wav: the audio is silent"),
    ({"a/x.wav": _wav(), "b/x.wav": _wav(0.05)}, None, AudioError, "b/x.wav: the audio is 50 ms long"),
    ({"a/x.wav": _wav(), "b/x.wav": _wav()}, _encrypted, UploadError, "b/x.wav cannot be unpacked"),
    ({"a/x.wav": _wav(), "b/x.wav": _wav()}, _method_99, UploadError, "b/x.wav cannot be unpacked"),
    ({"readme.txt": b"hi"}, None, ConfigError, "test.zip: a listening test needs at least 2 systems; got 0"),
])
def test_listening_zip_errors_name_the_member_or_the_archive(tmp_path, members, patch, error, message):
    with pytest.raises(error, match=message):
        from_zip(_zip(tmp_path / "test.zip", members, patch))


def test_an_unreadable_zip_is_named(tmp_path):
    archive = tmp_path / "votes.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UploadError, match="votes.zip is not a readable .zip archive"):
        from_zip(archive)
