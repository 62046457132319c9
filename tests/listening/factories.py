"""Dummy listening tests for the tests: tone folders, a service on a temporary data folder, a fake clock."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import soundfile

from studio.listening import ListeningService, ListeningSettings, Store, TestOptions
from tests.conftest import tone

TONE_SECONDS = 0.6  # just over the 0.4 s loudness-gating block


class FakeClock:
    """Server time that only moves when a test says so."""

    def __init__(self, start: float = 1_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tone_folders(root: Path, systems: dict[str, float], items: int = 2,
                 seconds: float = TONE_SECONDS) -> dict[str, Path]:
    """One folder of tone WAVs per system (system name -> amplitude), with matching file names."""
    folders = {}
    for number, (system, amplitude) in enumerate(systems.items()):
        folder = root / system
        folder.mkdir(parents=True, exist_ok=True)
        for item in range(items):
            audio = tone(seconds, 16000, 220.0 * (number + 1) + 30 * item, amplitude)
            soundfile.write(folder / f"utt{item}.wav", audio.samples, audio.sample_rate)
        folders[system] = folder
    return folders


def make_service(data_dir: Path, clock=None, admin_token: str | None = None,
                 database_url: str = "") -> ListeningService:
    store = Store(ListeningSettings(data_dir=data_dir, database_url=database_url, admin_token=admin_token))
    return ListeningService(store, clock) if clock else ListeningService(store)


def ab_test(service: ListeningService, root: Path, systems: dict[str, float] | None = None, items: int = 2,
            attention_checks: int = 1, admin_token: str | None = None, seconds: float = TONE_SECONDS):
    folders = tone_folders(root, systems or {"alpha": 0.1, "beta": 0.5}, items, seconds)
    return service.create_from_folders(TestOptions("tones", "ab", attention_checks=attention_checks), folders,
                                       admin_token)


def dominant_hz(audio) -> float:
    """The loudest frequency: lets a simulated rater tell the tone systems apart without their names."""
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.argmax(spectrum) * audio.sample_rate / len(audio.samples))


def rate_all(service: ListeningService, clock: FakeClock, token: str, choose) -> int:
    """Play every trial to the end and answer `choose(trial)`; returns the number of votes cast."""
    votes = 0
    while (trial := service.current_trial(token)) is not None:
        for slot, audio in zip("AB", trial.slots):
            clock.advance(audio.duration)
            service.confirm_played(token, slot)
        service.vote(token, choose(trial))
        votes += 1
    return votes


def prefer_higher_pitch(trial) -> str:
    """A consistent blind rater: the higher tone wins; identical tones get "No preference"."""
    a, b = (dominant_hz(audio) for audio in trial.slots)
    return "No preference" if abs(a - b) < 5 else ("A" if a > b else "B")


def launch_listen_tab(service: ListeningService):
    """The Listen tab alone in a Blocks app on 127.0.0.1 and a free port: (demo, url). Close with demo.close()."""
    import gradio as gr

    from studio.bootstrap import build_registry
    from studio.ui import listen

    with gr.Blocks() as demo:
        listen.build(build_registry(), service)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.queue(default_concurrency_limit=8)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, url


def trial_number(progress: str) -> int | None:
    """The trial a rater page shows, read from its progress line ("... trial 2 of 5"); None when done."""
    found = re.search(r"trial (\d+) of", progress)
    return int(found.group(1)) if found else None


MUSHRA_RATE = 24000  # high enough for both anchors (7 kHz < 12 kHz Nyquist)


def noise_folders(root: Path, cutoffs: dict[str, float | None], items: int = 2,
                  seconds: float = TONE_SECONDS) -> dict[str, Path]:
    """One folder per system of the same broadband noise per item, low-passed at the system's cutoff
    (None: full band, the reference): band-limited "codecs" a simulated MUSHRA rater can tell apart."""
    from scipy import signal

    folders = {}
    for system, cutoff in cutoffs.items():
        folder = root / system
        folder.mkdir(parents=True, exist_ok=True)
        for item in range(items):
            noise = np.random.default_rng(item).uniform(-0.3, 0.3, int(seconds * MUSHRA_RATE))
            if cutoff is not None:
                noise = signal.sosfiltfilt(signal.butter(12, cutoff, fs=MUSHRA_RATE, output="sos"), noise)
            soundfile.write(folder / f"utt{item}.wav", noise.astype(np.float32), MUSHRA_RATE)
        folders[system] = folder
    return folders


def band_fraction(audio, above_hz: float) -> float:
    """The share of the signal's energy above `above_hz`."""
    power = np.abs(np.fft.rfft(audio.samples.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(audio.samples), 1 / audio.sample_rate)
    return float(power[frequencies > above_hz].sum() / power.sum())


def rolloff_hz(audio, share: float = 0.99) -> float:
    """The frequency below which `share` of the energy lies: how wide a band the sample keeps."""
    power = np.abs(np.fft.rfft(audio.samples.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(audio.samples), 1 / audio.sample_rate)
    return float(frequencies[np.searchsorted(np.cumsum(power) / power.sum(), share)])


def rate_by_bandwidth(trial) -> list[float]:
    """A consistent blind MUSHRA rater: each sample scores its bandwidth as a share of the reference's."""
    reference = rolloff_hz(trial.slots[0])
    return [round(min(100.0, 100.0 * rolloff_hz(audio) / reference)) for audio in trial.slots[1:]]


def rate_all_mushra(service: ListeningService, clock: FakeClock, token: str, rate) -> int:
    """Play the reference and every stimulus to the end, then submit `rate(trial)`; returns the trials rated."""
    trials = 0
    while (trial := service.current_trial(token)) is not None:
        for name, audio in zip(trial.names, trial.slots):
            clock.advance(audio.duration)
            service.confirm_played(token, name)
        service.rate(token, rate(trial))
        trials += 1
    return trials
