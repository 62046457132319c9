"""What every tab shares: turning `StudioError` into a `gr.Error`, and the audio format Gradio plays as is."""

from __future__ import annotations

import functools
import logging

import gradio as gr
import numpy as np

from studio.audio import Audio
from studio.errors import StudioError

log = logging.getLogger(__name__)


def user_errors(callback):
    """Show a `StudioError` as a red `gr.Error` naming the problem; the app keeps serving.

    Works for plain functions and generators (callbacks that stream results as they finish).
    """
    if _is_generator(callback):
        @functools.wraps(callback)
        def generator_wrapper(*args, **kwargs):
            try:
                yield from callback(*args, **kwargs)
            except StudioError as error:
                raise gr.Error(str(error), print_exception=False) from None

        return generator_wrapper

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except StudioError as error:
            raise gr.Error(str(error), print_exception=False) from None

    return wrapper


def playable(audio: Audio) -> tuple[int, np.ndarray]:
    """(rate, int16 samples): Gradio plays int16 untouched, but peak-normalises float audio."""
    return audio.sample_rate, audio.to_int16()


def _is_generator(function) -> bool:
    import inspect

    return inspect.isgeneratorfunction(function)
