"""The app through its named API endpoints, as gradio_client users (and the Space) call it."""


import time
import wave

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from studio.assets import example_recordings
from tests.conftest import tone

pytestmark = pytest.mark.models
NONE = "(none)"


def recognize(client, path, reference="", *systems):
    slots = list(systems) + [(NONE, "")] * (3 - len(systems))
    flat = [value for slot in slots for value in slot]
    return client.predict(handle_file(str(path)), reference, *flat, api_name="/recognize")


def test_recognize_side_by_side_with_diff(client):
    example = example_recordings()[0]
    out = recognize(client, example.path, example.text, ("whisper-tiny.en", "beam_size=1"), ("pocketsphinx", ""))
    transcripts, diffs, table = out[:3], out[3:6], out[6]
    assert "cloudy" in transcripts[0].lower() and transcripts[1] and transcripts[2] == ""
    assert diffs[0] and all("token" in piece for piece in diffs[0])
    rows = {row[0]: dict(zip(table["headers"], row)) for row in table["data"]}
    assert set(rows) == {"whisper-tiny.en [beam_size=1]", "pocketsphinx"}
    assert rows["whisper-tiny.en [beam_size=1]"]["WER (normalised)"] <= 0.15
    assert rows["whisper-tiny.en [beam_size=1]"]["RTFx"] > 0


def test_synthesize_scores_each_output(client):
    out = client.predict("Please call me back before noon tomorrow.", "whisper-tiny.en", None,
                         "piper-joe", "noise_scale=0 noise_w_scale=0", "espeak-ng", "", NONE, "",
                         api_name="/synthesize")
    audios, table = out[:3], out[3]
    assert audios[0] and audios[1] and audios[2] is None
    with wave.open(audios[0]) as w:
        assert w.getsampwidth() == 2 and w.getframerate() == 22050  # int16 at the native rate
    rows = {row[0]: dict(zip(table["headers"], row)) for row in table["data"]}
    piper = rows["piper-joe [noise_scale=0.0 noise_w_scale=0.0]"]
    assert piper["round-trip WER"] <= 0.15 and 1 <= piper["DNSMOS OVRL"] <= 5
    assert piper["time to first audio s"] <= piper["synthesis s"]


def wav_file(tmp_path, name, samples, rate, width=2, channels=1):
    path = tmp_path / name
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def raw_file(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: wav_file(p, "empty.wav", np.zeros(0, np.int16), 16000), "cannot be read as audio|empty"),
        (lambda p: wav_file(p, "silent.wav", np.zeros(16000, np.int16), 16000), "silent"),
        (lambda p: raw_file(p, "corrupt.wav", b"RIFF\x10\x00\x00\x00WAVEfmt garbage"), "cannot be read as audio"),
        (lambda p: raw_file(p, "notes.txt", b"not audio"), "cannot be read as audio"),
    ],
)
def test_bad_audio_gives_a_readable_error_and_the_app_keeps_serving(client, tmp_path, make, message):
    with pytest.raises(AppError, match=message):
        recognize(client, make(tmp_path), "", ("whisper-tiny.en", ""))
    odd = tone(1.0, 8000).samples  # 8 kHz stereo 8-bit still works afterwards
    pcm = ((np.stack([odd, odd], axis=1) * 127) + 128).astype(np.uint8)
    out = recognize(client, wav_file(tmp_path, "odd.wav", pcm, 8000, width=1, channels=2), "", ("pocketsphinx", ""))
    assert out[6]["data"][0][0] == "pocketsphinx"


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("Hi 🤖", "emoji"), ("Привет", "non-Latin"), ("a" * 5000, "limit is 2000")],
)
def test_bad_text_gives_a_readable_error(client, text, message):
    with pytest.raises(AppError, match=message):
        client.predict(text, NONE, None, "piper-joe", "", NONE, "", NONE, "", api_name="/synthesize")


def test_bad_options_name_the_option(client):
    with pytest.raises(AppError, match="beam_size must be between 1 and 20"):
        recognize(client, example_recordings()[0].path, "", ("whisper-tiny.en", "beam_size=99"))


def test_system_info_endpoint(client):
    report, models, _ = client.predict(api_name="/system_info")
    assert report["cpu_count"] >= 1 and "faster-whisper" in report["packages"]
    assert {"whisper-tiny.en", "piper-joe"} <= {row[0] for row in models["data"]}




def test_synthesize_streams_the_first_chunk_before_synthesis_finishes(client):
    client.predict("Warm up.", NONE, None, "piper-joe", "", NONE, "", NONE, "", api_name="/synthesize")  # load
    text = " ".join(["Welcome to Speech Studio, where models are measured side by side."] * 4)
    start = time.perf_counter()
    job = client.submit(text, NONE, None, "piper-joe", "", NONE, "", NONE, "", api_name="/synthesize")
    first_chunk_at, chunks_before_table, table_seen, seen = None, 0, False, 0
    while not (job.done() and seen == len(job.outputs())):
        outputs = job.outputs()
        for *_, table, live in outputs[seen:]:
            if isinstance(table, dict) and "headers" in table:  # synthesis and scoring have finished
                table_seen = True
            elif live and not table_seen:  # a streamed segment for the live player
                first_chunk_at = first_chunk_at or time.perf_counter() - start
                chunks_before_table += 1
        seen = len(outputs)
        time.sleep(0.005)
    audio_1, _, _, table, _ = job.result()
    row = dict(zip(table["headers"], table["data"][0]))
    assert row["chunks"] >= 5 and chunks_before_table >= 2  # the first phrase, then one chunk per sentence
    # The client held the first chunk sooner after asking than the voice took to synthesise the whole text,
    # so it arrived while synthesis was still running (synthesis began after the request was sent).
    assert first_chunk_at < row["synthesis s"]
    assert row["time to first audio s"] < row["synthesis s"] / 3
    with wave.open(audio_1) as w:  # the slot still gets the whole recording, int16 at the native rate
        assert w.getsampwidth() == 2 and w.getframerate() == 22050
