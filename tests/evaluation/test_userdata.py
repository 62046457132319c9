"""Browser runs on your own data: uploads into datasets, limits, private run folders, share ids and expiry."""

from __future__ import annotations

import json
import time
import zipfile

import pytest

from studio.errors import ConfigError, UploadError
from studio.evaluation import userdata
from studio.limits import UploadLimits
from tests.conftest import tone


@pytest.fixture(autouse=True)
def results_root(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def zip_of(path, members: dict[str, bytes | str]):
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return path


WAV = tone(1.0).to_wav_bytes()


def test_each_session_gets_its_own_folder_and_runs_unguessable_ids(tmp_path):
    first, second = userdata.new_run("session-a", "asr"), userdata.new_run("session-b", "asr")
    assert first.folder.parent != second.folder.parent
    assert first.id != second.id and len(first.id) >= 32
    assert userdata.open_run(second.id).folder == second.folder  # any browser opens a run by its id
    from studio.evaluation.catalog import run_names
    assert run_names() == []  # browser runs are never listed
    for bad in ("", "../session-a", "*", first.id[:-1] + "/"):
        with pytest.raises(ConfigError, match="no run with id"):
            userdata.open_run(bad)


def test_runs_expire_after_the_time_to_live(monkeypatch):
    old = userdata.new_run("session-a", "asr")
    info = json.loads((old.folder / userdata.SHARE_FILE).read_text())
    assert info["expires"] - info["created"] == pytest.approx(168 * 3600)  # a week by default
    monkeypatch.setenv("STUDIO_RUN_TTL_HOURS", "1")
    young = userdata.new_run("session-b", "asr")
    assert userdata.expire(now=time.time() + 1800) == 0
    assert userdata.expire(now=time.time() + 3700) == 2
    assert not old.folder.parent.exists() and not young.folder.exists()  # the emptied session folders go too
    with pytest.raises(ConfigError, match="expired"):
        userdata.open_run(old.id)


def test_a_zip_with_transcripts_beside_the_audio_becomes_a_dataset(tmp_path):
    run = userdata.new_run("s", "asr")
    archive = zip_of(tmp_path / "mine.zip", {"mine/a.wav": WAV, "mine/a.txt": "hello there", "mine/b.wav": b"not audio",
                                             "mine/b.txt": "general kenobi", "mine/notes.md": "#"})
    prepared = userdata.prepare_asr(run, archive, [], "")
    assert (prepared.items, prepared.skipped, prepared.unreadable) == (2, 1, 1)
    assert prepared.seconds == pytest.approx(1.0)
    assert prepared.dataset.keep_unreadable  # the unreadable clip becomes a failed row, as in CLI runs
    assert "1 unreadable" in prepared.describe("asr")


def test_a_manifest_that_names_files_outside_the_upload_is_refused(tmp_path):
    outside = tmp_path / "secret.wav"
    outside.write_bytes(WAV)
    for path in ("../../../../../secret.wav", "../a.wav", str(outside)):
        run = userdata.new_run("s", "asr")
        manifest = json.dumps({"audio_filepath": path, "duration": 1.0, "text": "hi"})
        archive = zip_of(tmp_path / "m.zip", {"manifest.jsonl": manifest, "a.wav": WAV})
        with pytest.raises(ConfigError, match="outside the upload") as refused:
            userdata.prepare_asr(run, archive, [], "")
        assert str(run.folder) not in str(refused.value)  # messages never name the server folder


def test_audio_files_with_typed_references(tmp_path):
    files = []
    for name in ("one.wav", "two.wav"):
        (tmp_path / name).write_bytes(WAV)
        files.append(tmp_path / name)
    run = userdata.new_run("s", "asr")
    prepared = userdata.prepare_asr(run, None, files, "first line\n\nsecond line\n")
    assert prepared.items == 2
    assert (run.data / "two.txt").read_text().strip() == "second line"
    with pytest.raises(UploadError, match="2 audio files but 1 reference lines"):
        userdata.prepare_asr(userdata.new_run("s", "asr"), None, files, "only one")


def test_clip_total_and_system_limits_name_their_variable(tmp_path, registry):
    archive = zip_of(tmp_path / "z.zip", {"a.wav": WAV, "a.txt": "x", "b.wav": WAV, "b.txt": "y"})
    with pytest.raises(UploadError, match=r"a.wav is 1.0 s long; the limit is 0.5 \(set STUDIO_MAX_CLIP_SECONDS"):
        userdata.prepare_asr(userdata.new_run("s", "asr"), archive, [], "", UploadLimits(max_clip_seconds=0.5))
    with pytest.raises(UploadError, match=r"holds 2 s of audio; the limit is 1.5 \(set STUDIO_MAX_TOTAL_AUDIO_SECONDS"):
        userdata.prepare_asr(userdata.new_run("s", "asr"), archive, [], "", UploadLimits(max_total_seconds=1.5))
    systems = [registry.system("pocketsphinx"), registry.system("whisper-tiny.en")]
    with pytest.raises(UploadError, match=r"2 systems were chosen; the limit is 1 \(set STUDIO_MAX_SYSTEMS"):
        userdata.check_systems(systems, UploadLimits(max_systems=1))


def test_tts_prompts_and_a_reference_voice(tmp_path, registry):
    voice = tmp_path / "me.wav"
    voice.write_bytes(WAV)
    run = userdata.new_run("s", "tts")
    prepared = userdata.prepare_tts(run, None, "Hello there.\n\nGood morning.", voice)
    rows = [json.loads(line) for line in (run.data / "prompts.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["Hello there.", "Good morning."]
    assert {r["reference_audio"] for r in rows} == {"voice.wav"}
    config = userdata.upload_config(registry, run, prepared, [registry.system("piper-joe")], ["wer"])
    assert config.judge.adapter_id == userdata.JUDGE and config.output == run.results


@pytest.mark.models
def test_an_uploaded_zip_runs_and_every_row_is_shown(tmp_path, registry, piper_speech):
    from studio.evaluation.runner import run_evaluation

    members = {}
    for number, (text, audio) in enumerate(piper_speech[:2]):
        members[f"clips/u{number}.wav"] = audio.to_wav_bytes()
        members[f"clips/u{number}.txt"] = text
    members["clips/broken.wav"], members["clips/broken.txt"] = b"RIFF nonsense", "lost words"
    run = userdata.new_run("s", "asr")
    prepared = userdata.prepare_asr(run, zip_of(tmp_path / "z.zip", members), [], "")
    config = userdata.upload_config(registry, run, prepared, [registry.system("pocketsphinx")], [])
    result = run_evaluation(config, registry)
    assert result.failed == 1
    frame = userdata.utterance_frame(run.rows(), "WER (worst first)")
    assert len(frame) == 3 and list(frame.columns[:4]) == ["system", "utterance", "WER", "latency s"]
    assert frame["WER"].dropna().is_monotonic_decreasing
    assert "cannot be read as audio" in frame.set_index("utterance").loc["clips/broken", "error"]
    audio, diff, note = userdata.utterance_view(run, "pocketsphinx", "clips/u0")
    assert audio.duration > 1 and diff and "pocketsphinx" in note
