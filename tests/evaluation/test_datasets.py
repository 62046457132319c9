import json

import pytest

from studio.errors import ConfigError
from studio.evaluation.datasets import load_dataset
from tests.evaluation.conftest import DEMO_SET, write_manifest


def test_demo_manifest_loads_with_paths_relative_to_it():
    dataset = load_dataset(DEMO_SET / "manifest.jsonl", "asr", "demo")
    assert len(dataset.items) == 10
    first = dataset.items[0]
    assert first.audio_filepath == DEMO_SET / "wav" / "demo-01.wav"
    assert first.text == "The quick brown fox jumps over the lazy dog."
    assert first.speaker == "piper-joe"
    assert dataset.total_seconds == pytest.approx(sum(i.duration for i in dataset.items))


def test_demo_tts_prompts_load_with_a_reference_voice():
    dataset = load_dataset(DEMO_SET / "tts_prompts.jsonl", "tts")
    assert len(dataset.items) == 5
    assert dataset.items[0].reference_audio == DEMO_SET / "wav" / "demo-02.wav"
    assert dataset.items[1].reference_audio is None


@pytest.mark.parametrize("row, message", [
    ({"audio_filepath": "wav/nope.wav", "duration": 1.0, "text": "hi"}, "manifest.jsonl:2: audio file wav/nope.wav not found"),
    ("{not json", "manifest.jsonl:2: not a JSON object"),
    ({"audio_filepath": "wav/demo-02.wav", "duration": 1.0, "text": "  "}, "manifest.jsonl:2: empty transcript"),
    ({"audio_filepath": "wav/demo-01.wav", "duration": 1.0, "text": "again"}, "manifest.jsonl:2: duplicate id 'wav/demo-01'"),
    ({"audio_filepath": "wav/demo-02.wav", "duration": -1, "text": "hi"}, "manifest.jsonl:2: duration must be a positive"),
    ({"duration": 1.0, "text": "hi"}, "manifest.jsonl:2: missing or empty 'audio_filepath'"),
])
def test_manifest_errors_name_file_and_line(demo_copy, row, message):
    good = json.loads((demo_copy / "manifest.jsonl").read_text().splitlines()[0])
    path = write_manifest(demo_copy, [good, row])
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_dataset(path, "asr")


def test_librispeech_folder(demo_copy, tmp_path):
    chapter = tmp_path / "ls" / "19" / "198"
    chapter.mkdir(parents=True)
    for n in (1, 2):
        (demo_copy / "wav" / f"demo-0{n}.wav").rename(chapter / f"19-198-000{n}.wav")
    (chapter / "19-198.trans.txt").write_text("19-198-0001 THE QUICK BROWN FOX\n19-198-0002 SPEECH RECOGNITION\n")
    dataset = load_dataset(tmp_path / "ls", "asr")
    assert [u.id for u in dataset.items] == ["19-198-0001", "19-198-0002"]
    assert dataset.items[0].speaker == "19" and dataset.items[0].duration > 1.0


def test_librispeech_line_without_audio_names_the_line(tmp_path):
    (tmp_path / "1-2.trans.txt").write_text("1-2-0001 HELLO\n")
    with pytest.raises(ConfigError, match=r"1-2.trans.txt:1: no audio file 1-2-0001"):
        load_dataset(tmp_path, "asr")


def test_plain_folder_with_txt_and_lab(demo_copy):
    folder = demo_copy / "wav"
    (folder / "demo-01.txt").write_text("the quick brown fox\n")
    (folder / "demo-02.lab").write_text("speech recognition")
    for n in range(3, 11):
        (folder / f"demo-{n:02d}.wav").unlink()
    dataset = load_dataset(folder, "asr")
    assert [(u.id, u.text) for u in dataset.items] == [("demo-01", "the quick brown fox"),
                                                       ("demo-02", "speech recognition")]


def test_plain_folder_audio_without_transcript(demo_copy):
    with pytest.raises(ConfigError, match=r"demo-01.wav: no transcript beside it"):
        load_dataset(demo_copy / "wav", "asr")


def test_tts_text_list_skips_blank_lines(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("Hello there.\n\nGood morning.\n")
    assert [p.text for p in load_dataset(path, "tts").items] == ["Hello there.", "Good morning."]


def test_tts_missing_reference_voice(tmp_path):
    path = write_manifest(tmp_path, [{"text": "Hi.", "reference_audio": "voice.wav"}], "p.jsonl")
    with pytest.raises(ConfigError, match=r"p.jsonl:1: reference_audio voice.wav not found"):
        load_dataset(path, "tts")
