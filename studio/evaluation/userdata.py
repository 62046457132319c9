"""Your own data from the browser: uploads turned into a dataset, and the runs made from them.

Every browser run gets an unguessable id (`secrets.token_urlsafe`) and a folder of its own,
`<results root>/browser/<session>/<run id>/` with the upload in `data/` and the results in
`results/`; the session part is a hash of the browser session, so two sessions never share
a folder. `?run=ID` opens a run by id alone; nothing lists runs. Runs older than
STUDIO_RUN_TTL_HOURS (default a week) are deleted whenever a run is made or opened.

No browser value names a server path: uploads arrive as files Gradio saved, zip members go
through `studio.archive`, manifest paths must stay inside the upload, and messages show
paths relative to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import soundfile

from studio.adapters.registry import Registry, System
from studio.archive import check_upload_size, extract, open_zip
from studio.audio import AUDIO_SUFFIXES
from studio.errors import ConfigError, StudioError, UploadError
from studio.evaluation.catalog import results_root
from studio.evaluation.config import DEFAULT_METRICS, DatasetConfig, EvalConfig
from studio.evaluation.datasets import TRANSCRIPT_SUFFIXES, Dataset, Utterance, load_dataset
from studio.evaluation.results import RESULTS_FILE, ResultRow, ResultsLog
from studio.limits import UploadLimits

SHARE_FILE = "share.json"
DATASET_NAME = "your data"
JUDGE = "whisper-tiny.en"  # transcribes TTS output for round-trip WER
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_MANIFEST_SUFFIXES = (".jsonl",)


def browser_root() -> Path:
    """Where browser runs live; a folder without results.jsonl, so the Compare list never shows it."""
    return results_root() / "browser"


@dataclass(frozen=True)
class BrowserRun:
    id: str
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def results(self) -> Path:
        return self.folder / "results"

    @property
    def info(self) -> dict:
        path = self.folder / SHARE_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def rows(self) -> list[ResultRow]:
        return ResultsLog(self.results / RESULTS_FILE).read()

    def relative(self, message: str) -> str:
        """`message` with this run's server folder cut out, so the browser sees upload-relative names."""
        return message.replace(f"{self.data.resolve()}/", "").replace(f"{self.folder.resolve()}/", "")


def session_folder(session_hash: str | None) -> Path:
    key = hashlib.sha256((session_hash or "local").encode()).hexdigest()[:32]
    return browser_root() / key


def new_run(session_hash: str | None, task: str, limits: UploadLimits | None = None) -> BrowserRun:
    """A fresh, empty run in this session's folder (old runs expire first)."""
    limits = limits or UploadLimits.from_env()
    expire(limits)
    run_id = secrets.token_urlsafe(24)
    folder = session_folder(session_hash) / run_id
    (folder / "data").mkdir(parents=True)
    now = time.time()
    (folder / SHARE_FILE).write_text(json.dumps({"created": now, "expires": now + limits.run_ttl_hours * 3600,
                                                 "task": task}), encoding="utf-8")
    return BrowserRun(run_id, folder)


def open_run(run_id: str, limits: UploadLimits | None = None) -> BrowserRun:
    """The run with this id, from any session; `ConfigError` when the id is malformed, unknown or expired."""
    limits = limits or UploadLimits.from_env()
    expire(limits)
    run_id = (run_id or "").strip()
    if _RUN_ID.match(run_id):
        for folder in browser_root().glob(f"*/{run_id}"):
            if (folder / SHARE_FILE).is_file():
                return BrowserRun(run_id, folder)
    raise ConfigError(f"no run with id {run_id[:64]!r}: the link is incomplete or the run has expired "
                      f"(runs are kept {limits.run_ttl_hours:g} hours)")


def expire(limits: UploadLimits | None = None, now: float | None = None) -> int:
    """Delete runs (uploads and results) older than the time to live, and sessions left empty; returns runs deleted."""
    limits = limits or UploadLimits.from_env()
    now = time.time() if now is None else now
    root = browser_root()
    if not root.is_dir():
        return 0
    deleted = 0
    for session in root.iterdir():
        try:  # another request may be expiring or filling the same folders: what vanished is gone either way
            for run in session.iterdir():
                try:
                    created = json.loads((run / SHARE_FILE).read_text(encoding="utf-8"))["created"]
                except (OSError, ValueError, KeyError):
                    created = run.stat().st_mtime  # a run whose share file never got written
                if now - created > limits.run_ttl_hours * 3600:
                    shutil.rmtree(run, ignore_errors=True)
                    deleted += 1
            if not any(session.iterdir()):
                session.rmdir()
        except OSError:
            continue
    return deleted


@dataclass(frozen=True)
class Prepared:
    """An upload turned into a dataset the runner reads, and what was seen on the way."""

    dataset: DatasetConfig
    items: int
    seconds: float
    skipped: int  # files of other kinds
    unreadable: int  # audio files that will be failed rows

    def describe(self, task: str) -> str:
        what = f"{self.items} {'clips' if task == 'asr' else 'prompts'}"
        if task == "asr":
            what += f", {self.seconds:.1f} s of audio"
        if self.skipped:
            what += f"; {self.skipped} other files skipped"
        if self.unreadable:
            what += f"; {self.unreadable} unreadable (reported as failed rows)"
        return what


def prepare_asr(run: BrowserRun, archive: Path | None, audio_files: Sequence[Path], references: str,
                limits: UploadLimits | None = None) -> Prepared:
    """A .zip (JSONL manifest, LibriSpeech *.trans.txt, or .txt/.lab beside each clip) or audio files with
    one reference line each, checked against the limits and laid out in the run's data folder."""
    limits = limits or UploadLimits.from_env()
    skipped = 0
    if archive:
        with open_zip(archive, AUDIO_SUFFIXES + TRANSCRIPT_SUFFIXES + _MANIFEST_SUFFIXES, limits) as (zipped, listing):
            extract(zipped, listing, run.data)
            skipped = listing.skipped
        manifests = sorted(run.data.rglob("*.jsonl"))
        if len(manifests) > 1:
            raise UploadError(f"the archive holds {len(manifests)} JSONL manifests "
                              f"({', '.join(run.relative(str(m)) for m in manifests[:3])}); keep one")
        source = manifests[0] if manifests else run.data
    elif audio_files:
        skipped = _copy_with_references(run, [Path(p) for p in audio_files], references or "", limits)
        source = run.data
    else:
        raise UploadError("upload a .zip, or some audio files with their references, first")
    dataset = _loaded(run, source, "asr")
    for item in dataset.items:
        _inside(run, item.audio_filepath)
    # the files' own durations, not a manifest's word for them, are what the limits count
    measured = [dataclasses.replace(i, duration=_seconds(i.audio_filepath, strict=False)) for i in dataset.items]
    _check_audio(run, measured, limits)
    seconds = sum(i.duration for i in measured)
    unreadable = sum(1 for i in measured if i.duration == 0)
    return Prepared(DatasetConfig(source, DATASET_NAME, keep_unreadable=True), len(dataset.items), seconds, skipped,
                    unreadable)


def prepare_tts(run: BrowserRun, prompts_file: Path | None, prompts_text: str, voice: Path | None,
                limits: UploadLimits | None = None) -> Prepared:
    """Prompts from a .txt (one a line) or .jsonl (`text`) upload or the text box, and an optional voice to
    compare every output with (speaker similarity)."""
    limits = limits or UploadLimits.from_env()
    uploads = [Path(p) for p in (prompts_file, voice) if p]
    check_upload_size(uploads, limits)
    if prompts_file:
        suffix = Path(prompts_file).suffix.lower()
        if suffix not in (".txt", ".jsonl"):
            raise UploadError(f"the prompt list must be a .txt (one prompt a line) or .jsonl file; got {suffix or 'no suffix'}")
        copied = run.data / f"uploaded{suffix}"
        shutil.copyfile(prompts_file, copied)
        texts = [p.text for p in _loaded(run, copied, "tts").items]
    else:
        texts = [line.strip() for line in (prompts_text or "").splitlines() if line.strip()]
    if not texts:
        raise UploadError("give at least one prompt: type one sentence a line, or upload a .txt or .jsonl list")
    if len(texts) > limits.max_files:
        raise UploadError(limits.exceeded("max_files", f"the list holds {len(texts)} prompts"))
    rows = [{"id": f"p{n:03d}", "text": text} for n, text in enumerate(texts, 1)]
    if voice:
        if Path(voice).suffix.lower() not in AUDIO_SUFFIXES:
            raise UploadError(f"the reference voice must be audio ({', '.join(AUDIO_SUFFIXES)})")
        target = run.data / f"voice{Path(voice).suffix.lower()}"
        shutil.copyfile(voice, target)
        _check_audio(run, [Utterance("voice", target, _seconds(target), "")], limits)
        rows = [{**row, "reference_audio": target.name} for row in rows]
    manifest = run.data / "prompts.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    _loaded(run, manifest, "tts")
    return Prepared(DatasetConfig(manifest, DATASET_NAME), len(rows), 0.0, 0, 0)


def check_systems(systems: Sequence[System], limits: UploadLimits | None = None) -> None:
    limits = limits or UploadLimits.from_env()
    if len(systems) > limits.max_systems:
        raise UploadError(limits.exceeded("max_systems", f"{len(systems)} systems were chosen"))


def upload_config(registry: Registry, run: BrowserRun, prepared: Prepared, systems: Sequence[System],
                  metrics: Sequence[str], limits: UploadLimits | None = None) -> EvalConfig:
    """The evaluation of an upload: the systems on its dataset, results in the run's folder."""
    check_systems(systems, limits)
    if not systems:
        raise ConfigError("choose at least one system")
    task = systems[0].task
    metrics = tuple(metrics) or DEFAULT_METRICS[task]
    judge = registry.system(JUDGE) if task == "tts" and "wer" in metrics else None
    return EvalConfig(name="your data", datasets=(prepared.dataset,), systems=tuple(systems), metrics=metrics,
                      judge=judge, output=run.results)


def utterance_audio(run: BrowserRun, row: ResultRow) -> Path | None:
    """The audio of a row (the input clip for ASR, the synthesised WAV for TTS), if it is in the run's folder."""
    if not row.audio_filepath:
        return None
    path = Path(row.audio_filepath)
    try:
        _inside(run, path, folder=run.folder)
    except UploadError:
        return None
    return path if path.is_file() else None


def _copy_with_references(run: BrowserRun, files: list[Path], references: str, limits: UploadLimits) -> int:
    check_upload_size(files, limits)
    audio = [f for f in files if f.suffix.lower() in AUDIO_SUFFIXES]
    if len(audio) > limits.max_files:
        raise UploadError(limits.exceeded("max_files", f"{len(audio)} audio files were uploaded"))
    if not audio:
        raise UploadError(f"none of the uploaded files is audio ({', '.join(AUDIO_SUFFIXES)})")
    lines = [line.strip() for line in references.splitlines() if line.strip()]
    if len(lines) != len(audio):
        raise UploadError(f"{len(audio)} audio files but {len(lines)} reference lines; type one reference a line, "
                          "in the order of the files")
    seen: set[str] = set()
    for path, text in zip(audio, lines):
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._") or "clip"
        name, number = stem, 1
        while name in seen:
            number += 1
            name = f"{stem}_{number}"
        seen.add(name)
        shutil.copyfile(path, run.data / f"{name}{path.suffix.lower()}")
        (run.data / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    return len(files) - len(audio)


def _loaded(run: BrowserRun, source: Path, task: str) -> Dataset:
    try:
        return load_dataset(source, task, DATASET_NAME, keep_unreadable=True, within=run.data)
    except StudioError as error:
        raise type(error)(run.relative(str(error))) from None


def _inside(run: BrowserRun, path: Path, folder: Path | None = None) -> None:
    folder = (folder or run.data).resolve()
    if folder not in Path(path).resolve().parents:
        raise UploadError(f"{run.relative(str(path))}: the manifest names a file outside the upload; "
                          "audio paths must be relative to the manifest and stay inside the archive")


def _check_audio(run: BrowserRun, items: Sequence[Utterance], limits: UploadLimits) -> None:
    for item in items:
        if item.duration > limits.max_clip_seconds:
            raise UploadError(limits.exceeded("max_clip_seconds", f"{run.relative(str(item.audio_filepath))} is "
                                              f"{item.duration:.1f} s long"))
    total = sum(i.duration for i in items)
    if total > limits.max_total_seconds:
        raise UploadError(limits.exceeded("max_total_seconds", f"the upload holds {total:.0f} s of audio"))


def _seconds(path: Path, strict: bool = True) -> float:
    try:
        return float(soundfile.info(str(path)).duration)
    except (soundfile.LibsndfileError, RuntimeError):
        if not strict:
            return 0.0
        raise UploadError("the reference voice cannot be read as audio; use WAV, FLAC, OGG/Opus or MP3") from None


SORTS = {"WER (worst first)": ("WER", False), "latency (slowest first)": ("latency s", False),
         "system, then utterance": (None, True)}


def utterance_frame(rows: Sequence[ResultRow], sort: str = "system, then utterance"):
    """One line per utterance and system: what the per-utterance table shows."""
    import pandas as pd

    frame = pd.DataFrame([{
        "system": r.system, "utterance": r.key,
        "WER": round(r.metrics["wer"], 4) if "wer" in r.metrics else None,
        "latency s": round(r.latency, 3) if r.latency is not None else None,
        "audio s": round(r.duration, 2) if r.duration else None,
        "reference" if r.task == "asr" else "prompt": r.text,
        "transcript" if r.task == "asr" else "judge heard": r.pred_text,
        "error": r.error or "",
    } for r in rows])
    column, ascending = SORTS.get(sort, SORTS["system, then utterance"])
    if column and not frame.empty:
        frame = frame.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def find_row(rows: Sequence[ResultRow], system: str, key: str) -> ResultRow:
    for row in rows:
        if row.system == system and row.key == key:
            return row
    raise ConfigError(f"no result for {key!r} by {system!r} in this run")


def utterance_view(run: BrowserRun, system: str, key: str):
    """(audio or None, word diff pieces, note) for one row of the per-utterance table."""
    from studio.audio import load_audio
    from studio.metrics.wer import word_diff

    row = find_row(run.rows(), system, key)
    path = utterance_audio(run, row)
    audio, diff = None, []
    if path is not None:
        try:
            audio = load_audio(path)
        except StudioError:
            audio = None
    if row.text and not row.error:
        try:
            diff = word_diff(row.text, row.pred_text)
        except StudioError:
            diff = []
    heard = "transcript" if row.task == "asr" else "judge's transcript"
    note = f"⚠ {row.error}" if row.error else f"{row.system} · {row.key}: {heard} against the {'reference' if row.task == 'asr' else 'prompt'}"
    return audio, diff, note
