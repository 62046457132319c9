import io

import numpy as np
import pytest
import soundfile

from studio.audio import Audio, from_array, load_audio
from studio.errors import AudioError
from studio.limits import Limits
from tests.conftest import tone


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 48000])
def test_reads_any_rate_and_resamples_to_16k(rate):
    audio = load_audio(wav_bytes(tone(1.0, rate).samples, rate))
    assert audio.sample_rate == rate
    resampled = audio.resample(16000)
    assert resampled.sample_rate == 16000
    assert abs(len(resampled.samples) - 16000) <= 2
    assert np.abs(resampled.samples).max() <= 1.0


def test_eight_bit_unsigned_is_centred():
    audio = load_audio(wav_bytes(tone(0.5, 8000).samples, 8000, subtype="PCM_U8"))
    assert abs(float(audio.samples.mean())) < 0.01
    assert 0.25 < np.abs(audio.samples).max() <= 0.31


def test_multichannel_is_downmixed():
    left = tone(0.5, 16000).samples
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    audio = load_audio(wav_bytes(stereo, 16000))
    assert audio.samples.ndim == 1
    assert np.allclose(audio.samples, left / 2, atol=1e-3)


def test_flac_and_ogg_read():
    samples = tone(0.5, 16000).samples
    for fmt, subtype in (("FLAC", "PCM_16"), ("OGG", "VORBIS")):
        assert load_audio(wav_bytes(samples, 16000, subtype, fmt)).duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "cannot be read as audio"),
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk", "cannot be read as audio"),
        (b"just some text, not audio at all" * 10, "cannot be read as audio"),
    ],
)
def test_corrupt_or_unknown_format(payload, message):
    with pytest.raises(AudioError, match=message):
        load_audio(payload)


def test_empty_silent_short_and_long():
    with pytest.raises(AudioError, match="empty"):
        from_array(np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="silent"):
        from_array(np.zeros(16000, np.float32), 16000)
    with pytest.raises(AudioError, match="ms long"):
        from_array(tone(0.05).samples, 16000)
    with pytest.raises(AudioError, match="limit is 2 s"):
        load_audio(wav_bytes(tone(3.0).samples, 16000), Limits(max_audio_seconds=2))


def test_missing_file_and_nan():
    with pytest.raises(AudioError, match="no such audio file"):
        load_audio("/nonexistent/clip.wav")
    with pytest.raises(AudioError, match="NaN"):
        from_array(np.full(16000, np.nan, np.float32), 16000)


def test_int16_round_trip_keeps_level():
    audio = tone(0.5, 16000, amplitude=0.1)
    back = load_audio(audio.to_wav_bytes())
    assert np.abs(back.samples).max() == pytest.approx(0.1, abs=1e-3)  # no peak normalisation
    assert Audio(np.array([2.0, -2.0], np.float32), 16000).to_int16().tolist() == [32767, -32767]
