"""The one error type users see.

Everything that goes wrong because of what a user gave us (audio, text, a config, an
option) raises a `StudioError` subclass whose message says what happened and what to do.
The UI turns it into a `gr.Error`; the CLI prints it as one line and exits non-zero.
Anything else is a bug and keeps its traceback.
"""


class StudioError(Exception):
    """A problem with the user's input or setup, with a message meant for that user."""


class AudioError(StudioError):
    """Audio that cannot be used: empty, silent, corrupt, too long, unknown format."""


class TextError(StudioError):
    """Text that cannot be used: empty, too long, or in characters a model cannot speak."""


class ConfigError(StudioError):
    """A bad system, option, metric or config file entry."""


class ModelUnavailable(StudioError):
    """A model whose package, binary or weights are missing on this machine."""


class OutOfMemory(ModelUnavailable):
    """A model that does not fit in the GPU or host memory left for it."""


def failure_message(error: Exception) -> str:
    """The message for one failed item in a batch of work (a run's utterance, one system of several).

    A `StudioError` speaks for itself. Anything else is a bug in a model or in the studio: its
    traceback goes to the server log and the item is reported as failed, so one odd clip does not
    end a whole evaluation or hide the other systems' results.
    """
    if isinstance(error, StudioError):
        return str(error)
    import logging

    logging.getLogger("studio").error("unexpected failure", exc_info=error)
    return f"internal error ({type(error).__name__}: {error}); the traceback is in the server log"


class UploadError(AudioError):
    """An upload that is refused as a whole: too large, too many files, or an unsafe archive."""
