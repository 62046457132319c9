"""Fuzzed listening-test zips (`sources.from_zip`, behind `ListeningService.create_from_zip`).

Archives are built per example: near-valid ones (one folder per system, optionally inside a top folder) with
members renamed (`../x.wav`, absolute, backslashes, hidden, too deep), links, corrupt or silent audio, lying
declared sizes, odd compression methods and the encryption flag, plus byte-flipped and truncated archives and
raw bytes. Each import either returns systems that share their items, or raises a studio error whose message
names the archive, a member or a system folder.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.errors import StudioError
from studio.listening.sources import from_zip


def _wav(seconds: float, amplitude: float = 0.3, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(8000 * seconds)) / 8000
    samples = np.repeat((amplitude * np.sin(2 * np.pi * 440 * t))[:, None], channels, axis=1).astype(np.float32)
    soundfile.write(buffer, samples, 8000, format="WAV")
    return buffer.getvalue()


GOOD = _wav(0.15)
CONTENTS = (GOOD, GOOD, GOOD, _wav(0.15, channels=2), _wav(0.05), _wav(0.15, amplitude=0.0), b"", b"not audio",
            GOOD[:50], b"RIFF" + b"\xff" * 40)
VALID_LAYOUTS = (("sys_a/utt1.wav", "sys_b/utt1.wav"), ("test/a/1.wav", "test/b/1.wav", "test/a/2.wav", "test/b/2.wav"),
                 ("a/x.wav", "b/x.wav", "c/x.wav"))
ODD_NAMES = ("../x.wav", "a/../../x.wav", "/abs/x.wav", "C:/x.wav", "a\\b.wav", "__MACOSX/a/._x.wav", ".hidden/x.wav",
             "a/b/c/d.wav", "x.wav", "a/", "a/readme.txt", "a/x.WAV", "a/x.flac", "é/ü.wav", "a//x.wav", "./a/x.wav",
             "a/" + "x" * 200 + ".wav", "b/utt1.wav", "sys_a/utt2.wav")


@st.composite
def archive_members(draw: st.DrawFn) -> list[tuple[str, bytes, str]]:
    """(name, bytes, trick) per member; tricks are applied when the archive is written."""
    names = list(draw(st.sampled_from(VALID_LAYOUTS)))
    for _ in range(draw(st.sampled_from((0, 1, 1, 2, 3)))):
        at = draw(st.integers(0, len(names)))
        odd = draw(st.sampled_from(ODD_NAMES))
        if at < len(names) and draw(st.booleans()):
            names[at] = odd
        else:
            names.append(odd)
    tricks = st.sampled_from(("",) * 8 + ("link", "deflate", "bigger", "smaller", "encrypted", "method 99"))
    return [(name, draw(st.sampled_from(CONTENTS)), draw(tricks)) for name in names]


def _write_zip(members: list[tuple[str, bytes, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data, trick in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED if trick == "deflate" else zipfile.ZIP_STORED
            if trick == "link":
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, data)
            if trick in ("bigger", "smaller", "encrypted", "method 99"):
                _patch_central_entry(zipped.infolist()[-1], trick)
    return buffer.getvalue()


def _patch_central_entry(info: zipfile.ZipInfo, trick: str) -> None:
    """Make the central directory lie about a member (written when the archive closes)."""
    if trick == "bigger":
        info.file_size = 4 << 30  # a huge declared size
    elif trick == "smaller":
        info.file_size = max(info.file_size // 2, 0)
    elif trick == "encrypted":
        info.flag_bits |= 0x1
    else:
        info.compress_type = 99


@st.composite
def archive_bytes(draw: st.DrawFn) -> bytes:
    data = _write_zip(draw(archive_members()))
    damage = draw(st.sampled_from(("",) * 6 + ("flip", "truncate", "raw")))
    if damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif damage == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "raw":
        data = draw(st.binary(max_size=100)) or b"PK\x05\x06" + bytes(18)
    return data


def _names_in(data: bytes) -> set[str]:
    """The archive's member names and folders, as far as the bytes still tell them."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception:  # noqa: BLE001 - a damaged archive names nothing; the archive's own name must do
        return set()
    return {part for info in infos for part in (info.filename, *info.filename.split("/")) if part}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("zip-fuzz") / "listening-test.zip"


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=1000)
@given(archive_bytes())
def test_listening_zip_imports_or_names_archive_member_or_system(archive, data):
    archive.write_bytes(data)
    try:
        samples = from_zip(archive)
    except StudioError as error:
        message = str(error)
        assert archive.name in message or any(name in message for name in _names_in(data)), (
            f"{message!r} names neither the archive nor a member")
        return
    assert len(samples) >= 2
    items = [set(per_system) for per_system in samples.values()]
    assert all(i == items[0] for i in items) and items[0]
    for per_system in samples.values():
        for sample in per_system.values():
            assert sample.audio.duration >= 0.1 and np.isfinite(sample.audio.samples).all()


def test_struct_of_a_patched_size_is_read_back():
    """The 'bigger' trick writes the lie into the central directory that `from_zip` reads (guards the fuzzer)."""
    data = _write_zip([("a/x.wav", GOOD, "bigger"), ("b/x.wav", GOOD, "")])
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert infos[0].file_size == 4 << 30 and struct.calcsize("<L") == 4
