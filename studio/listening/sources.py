"""Where a test's audio comes from: TTS systems reading prompts, or one audio folder per system.

Every source yields `{system name: {item: Sample}}` with the same items for every system, so
trials always compare systems on the same prompt or file.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import soundfile

from studio.adapters.registry import Registry, System
from studio.archive import open_zip, read_member
from studio.audio import AUDIO_SUFFIXES, Audio, load_audio
from studio.errors import AudioError, ConfigError
from studio.limits import UploadLimits

MAX_ZIP_MEMBERS = 5000
MAX_ZIP_BYTES = 2 << 30  # uncompressed; larger archives are refused before anything is read (also the upload cap)


@dataclass(frozen=True)
class SourceSample:
    audio: Audio
    text: str | None = None  # the prompt, when the audio was synthesised from one


SystemSamples = dict[str, dict[str, SourceSample]]  # system name -> item -> sample


def from_tts(registry: Registry, systems: Sequence[System], prompts: Sequence[str], cache_dir: Path) -> SystemSamples:
    """Each system reads each prompt; results are cached as WAV files keyed by system, options and text."""
    from studio import engine  # loads model code only when a test is synthesised

    prompts = [p.strip() for p in prompts if p.strip()]
    if not prompts:
        raise ConfigError("the prompt list is empty; give one sentence per line")
    labels = [s.label for s in systems]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"the systems {', '.join(labels)} include duplicates; give each a different name or options")
    cache_dir.mkdir(parents=True, exist_ok=True)
    result: SystemSamples = {}
    for system in systems:
        samples = {}
        for number, prompt in enumerate(prompts, start=1):
            identity = f"{system.adapter_id}\n{system.options_text}\n{prompt}"
            key = hashlib.sha256(identity.encode()).hexdigest()
            path = cache_dir / f"{key}.wav"
            if path.is_file():
                audio = load_audio(path)
            else:
                audio = engine.synthesize(registry, system, prompt).audio
                soundfile.write(path, audio.samples, audio.sample_rate, subtype="FLOAT")
            samples[f"p{number:03d}"] = SourceSample(audio, prompt)
        result[system.label] = samples
    return _checked(result)


def systems_from_lines(registry: Registry, text: str) -> list[System]:
    """TTS systems, one per line: an adapter id, then optional `name=value` decoding options.

    >>> from studio.bootstrap import build_registry
    >>> [s.label for s in systems_from_lines(build_registry(), "piper-joe\\npiper-joe length_scale=1.3")]
    ['piper-joe', 'piper-joe [length_scale=1.3]']
    """
    systems = []
    for line in (text or "").splitlines():
        adapter_id, _, options = line.strip().partition(" ")
        if adapter_id:
            systems.append(registry.system(adapter_id, options))
    return systems


def from_folders(folders: Mapping[str, Path]) -> SystemSamples:
    """One folder per system (server-side paths, e.g. for scripts and tests); files match by name."""
    result: SystemSamples = {}
    for system, folder in folders.items():
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        result[system] = {p.stem: SourceSample(load_audio(p)) for p in files}
    return _checked(result)


def from_zip(archive: Path) -> SystemSamples:
    """An uploaded .zip with one folder per system (optionally inside one top folder).

    Members are checked by `studio.archive` (no links, nothing outside the folder, no bombs), then
    read into memory by name and never extracted, so no archive path reaches the disk.
    """
    limits = dataclasses.replace(UploadLimits.from_env(), max_files=MAX_ZIP_MEMBERS, max_upload_mb=MAX_ZIP_BYTES >> 20,
                                 max_unzipped_mb=MAX_ZIP_BYTES >> 20)
    with open_zip(archive, AUDIO_SUFFIXES, limits) as (zipped, listing):
        paths = [m.path for m in listing.members]
        wrapped = paths and all(len(p.parts) == 3 for p in paths) and len({p.parts[0] for p in paths}) == 1
        strip = 1 if wrapped else 0  # one top folder around the system folders
        result: SystemSamples = {}
        for member in listing.members:
            parts = member.path.parts[strip:]
            if len(parts) != 2:
                raise AudioError(f"{member.info.filename}: put every file in a folder named after its system, "
                                 "e.g. system_a/utt1.wav and system_b/utt1.wav")
            audio = load_audio(read_member(zipped, member), name=member.info.filename)
            result.setdefault(parts[0], {})[PurePosixPath(parts[1]).stem] = SourceSample(audio)
    return _checked(result, Path(archive).name)


def _checked(samples: SystemSamples, source: str = "") -> SystemSamples:
    """`samples` when every system has the same items; `source` (an archive's name) starts each message."""
    where = f"{source}: " if source else ""
    if len(samples) < 2:
        raise ConfigError(f"{where}a listening test needs at least 2 systems; "
                          f"got {len(samples)} ({', '.join(samples) or 'none'})")
    items = [set(s) for s in samples.values()]
    common = set.intersection(*items)
    if not common:
        raise AudioError(f"{where}the systems share no file names; name each system's files alike (utt1.wav in every folder)")
    missing = {name: sorted(set(s) - common) for name, s in samples.items() if set(s) != common}
    if missing:
        detail = "; ".join(f"{name} has extra {', '.join(extra[:5])}" for name, extra in missing.items())
        raise AudioError(f"{where}file names differ between systems ({detail}); every system needs the same file names")
    return samples

