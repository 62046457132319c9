"""Dummy listening tests for the tests: tone folders, a service on a temporary data folder, a fake clock."""

from __future__ import annotations

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


def make_service(data_dir: Path, clock=None, admin_token: str | None = None) -> ListeningService:
    store = Store(ListeningSettings(data_dir=data_dir, admin_token=admin_token))
    return ListeningService(store, clock) if clock else ListeningService(store)


def ab_test(service: ListeningService, root: Path, systems: dict[str, float] | None = None, items: int = 2,
            attention_checks: int = 1, admin_token: str | None = None):
    folders = tone_folders(root, systems or {"alpha": 0.1, "beta": 0.5}, items)
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
