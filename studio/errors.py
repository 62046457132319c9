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
