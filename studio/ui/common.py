"""What every tab shares: turning `StudioError` into a `gr.Error`, and the audio format Gradio plays as is."""

from __future__ import annotations

import functools
import inspect
import logging

import gradio as gr
import numpy as np

from studio.audio import Audio
from studio.errors import StudioError
from studio.ui.gate import current_gate

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


def bind(callback, service, *, admin: str = "", job: bool = False, on_timeout=None):
    """`callback` with `service` (the registry) as its first argument, as a function Gradio can read.

    Gradio finds `gr.Request` parameters through type hints and streams generator functions; a
    `functools.partial` hides both, so this wrapper keeps them visible. `admin` names an action only a
    signed-in admin may take on a public app ("load a model"); `job` runs the callback within the quotas, and
    `on_timeout(session)` is how a request past its wall time is asked to stop (see `studio.ui.gate`).
    """
    signature = inspect.signature(callback)
    if _is_generator(callback):
        @functools.wraps(callback)
        def bound(*args, **kwargs):
            yield from callback(service, *args, **kwargs)
    else:
        @functools.wraps(callback)
        def bound(*args, **kwargs):
            return callback(service, *args, **kwargs)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    guarded = current_gate().guard(bound, admin, job, on_timeout)
    return bound if guarded is bound else user_errors(guarded)


def playable(audio: Audio) -> tuple[int, np.ndarray]:
    """(rate, int16 samples): Gradio plays int16 untouched, but peak-normalises float audio."""
    return audio.sample_rate, audio.to_int16()


def _is_generator(function) -> bool:
    return inspect.isgeneratorfunction(function)
