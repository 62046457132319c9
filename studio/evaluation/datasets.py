"""Evaluation sets: utterances with reference text (ASR) and prompts to speak (TTS).

ASR sets come as a JSONL manifest (NeMo style: `audio_filepath` relative to the manifest,
`duration`, `text`, optional `speaker`), a LibriSpeech-style folder (`*.trans.txt` lines of
`ID TEXT` beside `ID.flac`), or a plain folder of audio files with `.txt` or `.lab`
transcripts beside them. TTS sets are a text list (one prompt a line) or JSONL with `text`
and an optional `reference_audio` (the target voice). Every problem names the file and
line, so a bad manifest is fixed in one go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import soundfile

from studio.audio import AUDIO_SUFFIXES
from studio.errors import ConfigError

TRANSCRIPT_SUFFIXES = (".txt", ".lab")
_MAX_SECONDS = 1e9  # a duration beyond this (about 30 years) is a typo; also keeps float() of it finite


@dataclass(frozen=True)
class Utterance:
    """One recording and what was said.

    >>> Utterance("a1", Path("a1.wav"), 2.5, "hello there").duration
    2.5
    """

    id: str
    audio_filepath: Path
    duration: float  # seconds
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Prompt:
    """One text to synthesise, with the voice it should sound like when there is one."""

    id: str
    text: str
    reference_audio: Path | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    task: Literal["asr", "tts"]
    source: Path
    items: tuple[Utterance, ...] | tuple[Prompt, ...]

    @property
    def total_seconds(self) -> float:
        return sum(getattr(item, "duration", 0.0) for item in self.items)


def load_dataset(path: Path, task: Literal["asr", "tts"], name: str | None = None,
                 keep_unreadable: bool = False, within: Path | None = None) -> Dataset:
    """Read an ASR or TTS set from a manifest, a text list or a folder; `ConfigError` naming file and line otherwise.

    With `keep_unreadable` an audio file that cannot be read stays in the set with duration 0, so the run
    reports it as a failed row (uploads) instead of refusing the whole set (configs). With `within`, a manifest
    path that leads outside that folder is refused before the file system is asked about it (uploads)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such dataset file or folder")
    if task == "asr":
        if path.is_dir():
            items = (_librispeech_folder(path, keep_unreadable) if any(path.rglob("*.trans.txt"))
                     else _plain_folder(path, keep_unreadable))
        else:
            items = _asr_manifest(path, keep_unreadable, within)
    else:
        if path.is_dir():
            raise ConfigError(f"{path}: a TTS set is a text list (.txt) or a JSONL file, not a folder")
        items = _tts_jsonl(path, within) if path.suffix == ".jsonl" else _tts_text_list(path)
    if not items:
        raise ConfigError(f"{path}: the dataset holds no {'utterances' if task == 'asr' else 'prompts'}")
    _check_unique(items)
    return Dataset(name or (path.stem if path.is_file() else path.name), task, path, tuple(i for i, _ in items))


def _asr_manifest(path: Path, keep_unreadable: bool = False, within: Path | None = None) -> list[Utterance]:
    items = []
    for line_no, row in _jsonl_rows(path):
        where = f"{path}:{line_no}"
        audio = _field(row, "audio_filepath", str, where)
        text = _transcript(row.get("text"), where)
        audio_path = _resolved(path.parent, audio, where)
        if within is not None and within.resolve() not in audio_path.parents:
            raise ConfigError(f"{where}: audio file {audio} is outside the upload; paths must be relative to the "
                              "manifest and stay inside the archive")
        if not _is_file(audio_path, where):
            raise ConfigError(f"{where}: audio file {audio} not found (paths are relative to the manifest)")
        duration = row.get("duration")
        if duration is None:
            duration = _duration(audio_path, where, keep_unreadable)
        elif (not isinstance(duration, (int, float)) or isinstance(duration, bool) or not 0 < duration < _MAX_SECONDS):
            raise ConfigError(f"{where}: duration must be a positive number of seconds; got {duration!r}")
        key = str(row.get("id") or Path(audio).with_suffix("").as_posix())
        items.append((Utterance(key, audio_path, float(duration), text, _optional_str(row, "speaker", where)), where))
    return items


def _librispeech_folder(folder: Path, keep_unreadable: bool = False) -> list[Utterance]:
    items = []
    for listing in sorted(folder.rglob("*.trans.txt")):
        for line_no, line in enumerate(_read_text(listing).splitlines(), 1):
            if not line.strip():
                continue
            key, _, text = line.strip().partition(" ")
            where = f"{listing}:{line_no}"
            if key in (".", "..") or any(c in key for c in "/\\\x00") or len(key.encode()) > 200:
                # the ID names a file beside the list; a path would reach audio outside the folder (uploads)
                raise ConfigError(f"{where}: {key[:60]!r} is not an utterance ID (a file name without folders, "
                                  "like 19-198-0001)")
            audio = _audio_beside(listing.parent / key)
            if audio is None:
                raise ConfigError(f"{where}: no audio file {key}.flac (or .wav) beside the transcript list")
            items.append((Utterance(key, audio, _duration(audio, where, keep_unreadable), _transcript(text, where), key.split("-")[0]), where))
    return items


def _plain_folder(folder: Path, keep_unreadable: bool = False) -> list[Utterance]:
    items = []
    audios = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not audios:
        raise ConfigError(f"{folder}: no audio files ({', '.join(AUDIO_SUFFIXES)}) and no *.trans.txt lists")
    for audio in audios:
        transcript = next((audio.with_suffix(s) for s in TRANSCRIPT_SUFFIXES if audio.with_suffix(s).is_file()), None)
        if transcript is None:
            raise ConfigError(f"{audio}: no transcript beside it ({audio.stem}.txt or {audio.stem}.lab)")
        text = _transcript(_read_text(transcript), str(transcript))
        key = audio.relative_to(folder).with_suffix("").as_posix()
        items.append((Utterance(key, audio, _duration(audio, str(audio), keep_unreadable), text), str(audio)))
    return items


def _tts_text_list(path: Path) -> list[Prompt]:
    lines = _read_text(path).splitlines()
    return [(Prompt(f"{path.stem}-{n:04d}", line.strip()), f"{path}:{n}") for n, line in enumerate(lines, 1)
            if line.strip()]


def _tts_jsonl(path: Path, within: Path | None = None) -> list[Prompt]:
    items = []
    for line_no, row in _jsonl_rows(path):
        where = f"{path}:{line_no}"
        text = _transcript(row.get("text"), where)
        reference = _optional_str(row, "reference_audio", where)
        reference_path = _resolved(path.parent, reference, where) if reference else None
        if reference_path and within is not None and within.resolve() not in reference_path.parents:
            raise ConfigError(f"{where}: reference_audio {reference} is outside the upload; upload the voice "
                              "separately")
        if reference_path and not _is_file(reference_path, where):
            raise ConfigError(f"{where}: reference_audio {reference} not found (paths are relative to the file)")
        items.append((Prompt(str(row.get("id") or f"{path.stem}-{line_no:04d}"), text, reference_path), where))
    return items


def _jsonl_rows(path: Path):
    for line_no, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, NaN, 5,000-digit numbers, deep nesting
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)[:80]
            raise ConfigError(f"{path}:{line_no}: not a JSON object ({reason}); each line must be one JSON object") from None
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{line_no}: each line must be a JSON object, got {type(row).__name__}")
        yield line_no, row


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start} cannot be decoded); save it as UTF-8") from None


def _resolved(folder: Path, relative: str, where: str) -> Path:
    try:
        return (folder / relative).resolve()
    except ValueError:  # a NUL character
        raise ConfigError(f"{where}: the file name {relative!r} holds a NUL character") from None


def _is_file(path: Path, where: str) -> bool:
    try:
        return path.is_file()
    except OSError as error:  # a name too long for the file system
        raise ConfigError(f"{where}: {path.name[:40]!r}... is not a usable file name ({error.strerror})") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _field(row: dict, name: str, kind: type, where: str):
    value = row.get(name)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{where}: missing or empty {name!r}")
    return value


def _optional_str(row: dict, name: str, where: str) -> str | None:
    value = row.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {name} must be a string; got {value!r}")
    return value or None


def _transcript(text, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: empty transcript; every item needs non-empty text")
    return " ".join(text.split())


def _duration(audio: Path, where: str, keep_unreadable: bool = False) -> float:
    try:
        return float(soundfile.info(str(audio)).duration)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        if keep_unreadable:
            return 0.0  # the run reads it again and reports it as a failed row
        raise ConfigError(f"{where}: {audio.name} cannot be read as audio ({error})") from None


def _audio_beside(stem: Path) -> Path | None:
    return next((stem.with_suffix(s) for s in AUDIO_SUFFIXES if stem.with_suffix(s).is_file()), None)


def _check_unique(items: list[tuple[Utterance | Prompt, str]]) -> None:
    first: dict[str, str] = {}
    for item, where in items:
        if item.id in first:
            raise ConfigError(f"{where}: duplicate id {item.id!r} (first at {first[item.id]}); ids must be unique")
        first[item.id] = where
