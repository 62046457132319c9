"""Sequential long-form transcription: Whisper's 30 s window loop, each window decoded by any strategy.

The algorithm is Whisper's own (openai `transcribe`, transformers' long-form `generate`): the
log-mel of the whole recording is computed once; a 30 s window starts at `seek`; the decoder
predicts text between timestamp tokens; the window's tokens are cut after the last complete
segment (a pair of timestamps closes it) and `seek` moves to that segment's end, so the next
window re-decodes the unfinished sentence with its whole audio. A window that ends on a
single timestamp, or holds no complete segment, is consumed whole.

The timestamp rules (`TimestampRules`) are transformers' `WhisperTimeStampLogitsProcessor`
applied after the usual suppression, row by row, so a verifier scoring n drafted positions
at once applies to each position the rules its own prefix implies. That is what keeps every
lossless strategy token-identical to greedy `generate` window by window (tests/decoding/
test_longform_decoding.py); what each strategy does inside a window is unchanged.

Not reproduced: temperature fallback, compression-ratio and log-prob thresholds, no-speech
skipping and conditioning on the previous window's text; transformers' `generate` leaves them
all off by default too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from studio.decoding.lean import LogitRules

WINDOW_FRAMES = 3000  # 30 s of log-mel frames (100 per second)
FRAMES_PER_TIMESTAMP = 2  # timestamp tokens step by 0.02 s = 2 mel frames
SAMPLES_PER_FRAME = 160  # 16 kHz audio, 10 ms hop


class TimestampRules:
    """`LogitRules` followed by Whisper's timestamp rules (transformers' `WhisperTimeStampLogitsProcessor`):
    no `<|notimestamps|>`; the first token a timestamp (at most `max_initial_timestamp` in);
    timestamps in pairs, never decreasing; a timestamp whenever their total probability beats
    the best text token."""

    def __init__(self, base: LogitRules, timestamp_begin: int, eot: int, begin_index: int,
                 max_initial_timestamp: int | None = None):
        self.base = base  # suppress_tokens and begin_suppress_tokens, applied first as in `generate`
        self.timestamp_begin, self.eot, self.begin_index = timestamp_begin, eot, begin_index
        self.no_timestamps = timestamp_begin - 1
        self.max_initial_timestamp = max_initial_timestamp

    @classmethod
    def for_model(cls, model, rules: LogitRules, prompt_length: int) -> "TimestampRules":
        g = model.generation_config
        return cls(rules, g.no_timestamps_token_id + 1, g.eos_token_id, prompt_length,
                   getattr(g, "max_initial_timestamp_index", None))

    def apply(self, logits: torch.Tensor, first_generated: int, tokens: list[int] | None = None) -> torch.Tensor:
        """`logits` (..., n, vocab) of one sequence: row j predicts the token after `tokens[:len(tokens) - n + j + 1]`."""
        if tokens is None:
            raise ValueError("timestamp rules need the tokens decoded so far")
        logits = self.base.apply(logits, first_generated)
        n = logits.shape[-2]
        for row in range(n):
            self._apply_row(logits[..., row, :], tokens[self.begin_index:len(tokens) - n + row + 1])
        return logits

    def _apply_row(self, scores: torch.Tensor, generated: list[int]) -> None:
        begin = self.timestamp_begin
        scores[..., self.no_timestamps] = -np.inf
        last_was_timestamp = len(generated) >= 1 and generated[-1] >= begin
        penultimate_was_timestamp = len(generated) < 2 or generated[-2] >= begin
        if last_was_timestamp:
            if penultimate_was_timestamp:  # a pair just closed: text (or end) next
                scores[..., begin:] = -np.inf
            else:  # a segment's text ended: its closing timestamp (or end of text) next
                scores[..., :self.eot] = -np.inf
        timestamps = [t for t in generated if t >= begin]
        if timestamps:  # never decreasing; <|0.00|> only once
            last = timestamps[-1] if last_was_timestamp and not penultimate_was_timestamp else timestamps[-1] + 1
            scores[..., begin:last] = -np.inf
        if not generated:
            scores[..., :begin] = -np.inf
            if self.max_initial_timestamp is not None:
                scores[..., begin + self.max_initial_timestamp + 1:] = -np.inf
        logprobs = torch.log_softmax(scores.float(), dim=-1)
        if bool((logprobs[..., begin:].logsumexp(-1) > logprobs[..., :begin].max(-1).values).all()):
            scores[..., :begin] = -np.inf


@dataclass(frozen=True)
class Window:
    """One decoded 30 s window: where it started, what was kept of it, and how far `seek` moved."""

    seek: int  # mel frames from the start of the recording
    frames: int  # frames of audio in the window (3000, less at the end)
    tokens: tuple[int, ...]  # what the decoder generated (end of text cut off)
    kept: tuple[int, ...]  # the complete segments (all of `tokens` when the window is consumed whole)
    advance: int  # frames `seek` moved on


def cut_window(tokens: list[int], frames: int, timestamp_begin: int) -> tuple[list[int], int]:
    """The tokens kept of a window and the frames to advance, as transformers' long-form `generate` does.

    >>> cut_window([50364, 11, 12, 50400, 50400, 13, 50450], 3000, 50364)  # <|0.00|> a b <|0.72|><|0.72|> c <|1.72|>
    ([50364, 11, 12, 50400, 50400, 13, 50450], 3000)
    >>> cut_window([50364, 11, 50400, 50400, 13, 50450, 50450, 14], 3000, 50364)
    ([50364, 11, 50400, 50400, 13, 50450, 50450], 172)
    """
    is_timestamp = [t >= timestamp_begin for t in tokens]
    single_timestamp_ending = is_timestamp[-2:] == [False, True]
    pair_ends = [i + 1 for i in range(len(tokens) - 1) if is_timestamp[i] and is_timestamp[i + 1]]
    if not pair_ends or single_timestamp_ending:
        return list(tokens), frames
    last_slice = pair_ends[-1] + 1
    return list(tokens[:last_slice]), (tokens[last_slice - 2] - timestamp_begin) * FRAMES_PER_TIMESTAMP


def sequential_windows(total_frames: int, decode_window: Callable[[int, int], list[int]],
                       timestamp_begin: int) -> list[Window]:
    """Whisper's window loop over `total_frames` of log-mel; `decode_window(seek, frames)` gives a window's tokens."""
    windows, seek = [], 0
    while seek < total_frames:
        frames = min(WINDOW_FRAMES, total_frames - seek)
        tokens = decode_window(seek, frames)
        kept, advance = cut_window(tokens, frames, timestamp_begin)
        if advance <= 0:  # a segment that ends where the window starts would loop forever
            kept, advance = list(tokens), frames
        windows.append(Window(seek, frames, tuple(tokens), tuple(kept), advance))
        seek += advance
    return windows


def window_features(features: torch.Tensor, seek: int, frames: int) -> torch.Tensor:
    """The 30 s window of whole-recording features from `seek`, zero-padded as transformers pads it."""
    window = features[:, :, seek:seek + frames]
    return torch.nn.functional.pad(window, (0, WINDOW_FRAMES - window.shape[-1]))
