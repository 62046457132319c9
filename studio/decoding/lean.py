"""A lean Whisper forward pass over transformers' modules, with a preallocated KV cache.

`generate` rebuilds logits processors, cache objects and masks at every step; this path
calls the same `nn.Module`s (so int8-quantised linears work unchanged) and keeps the
self-attention keys and values in tensors allocated once. Rolling back rejected draft
tokens is then free: the cache just forgets positions past its length. The attention and
cache code is written here (rather than using HF's `StaticCache`) because speculative
decoding needs exactly that: write n positions, attend causally, truncate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from studio.decoding.kvquant import CompressedTensor, QuantizedSelfCache
from studio.decoding.options import ENCODER_POSITIONS

MEL_FRAMES_PER_POSITION = 2  # the second convolution has stride 2


def audio_positions(seconds: float, margin_seconds: float = 1.0) -> int:
    """Encoder positions that cover `seconds` of audio plus a margin (whisper.cpp's audio_ctx)."""
    return min(ENCODER_POSITIONS, math.ceil((seconds + margin_seconds) * ENCODER_POSITIONS / 30))


@dataclass
class DecoderState:
    """One utterance batch: cross-attention keys/values and the growing self-attention cache."""

    cross: list[tuple]  # per layer (K, V): (batch, heads, audio_ctx, head_dim), tensors or CompressedTensor
    keys: list  # per layer: (batch, heads, max_positions, head_dim), tensors or QuantizedSelfCache
    values: list
    batch: int
    length: int = 0  # positions held in the cache

    def truncate(self, length: int) -> None:
        """Forget cached positions from `length` on (rejected draft tokens)."""
        self.length = min(self.length, length)

    def cache_bytes(self) -> int:
        """Bytes holding the cross-attention cache and the self-attention positions in use."""
        cross = sum(t.nbytes if isinstance(t, CompressedTensor) else t.numel() * t.element_size()
                    for pair in self.cross for t in pair)
        own = sum(c.nbytes(self.length) if isinstance(c, QuantizedSelfCache)
                  else c[:, :, :self.length].numel() * c.element_size() for c in [*self.keys, *self.values])
        return cross + own


class LeanWhisper:
    """Encoder and cached decoder steps over a `WhisperForConditionalGeneration`'s modules."""

    def __init__(self, model):
        self.model = model
        self.encoder = model.model.encoder
        self.decoder = model.model.decoder
        self.output = model.proj_out  # tied to the token embedding; an int8 Linear when quantised
        config = model.config
        self.heads = config.decoder_attention_heads
        self.head_dim = config.d_model // self.heads
        self.max_positions = config.max_target_positions
        self.num_layers = config.decoder_layers

    @torch.inference_mode()
    def encode(self, features: torch.Tensor, positions: int = ENCODER_POSITIONS) -> torch.Tensor:
        """Encoder output for log-mel `features` (batch, mels, frames), run over the first `positions` only.

        `positions` < 1500 is whisper.cpp's audio_ctx: less compute, but the model never saw
        shorter windows in training, so it can cost accuracy.
        """
        features = features[:, :, : positions * MEL_FRAMES_PER_POSITION]
        x = F.gelu(self.encoder.conv1(features))
        x = F.gelu(self.encoder.conv2(x)).permute(0, 2, 1)
        x = x + self.encoder.embed_positions.weight[: x.shape[1]]
        for layer in self.encoder.layers:
            x = layer(x, None)
        return self.encoder.layer_norm(x)

    @torch.inference_mode()
    def start(self, encoded: torch.Tensor, kv_bits: int = 0, kv_rank: int = 0) -> DecoderState:
        """Precompute cross-attention keys/values and allocate the self-attention cache; with `kv_bits`
        (8 or 4) both are kept quantised, the cross-attention cache with a rank-`kv_rank` residual."""
        batch = encoded.shape[0]
        cross = [(self._heads(layer.encoder_attn.k_proj(encoded)), self._heads(layer.encoder_attn.v_proj(encoded)))
                 for layer in self.decoder.layers]
        shape = (batch, self.heads, self.max_positions, self.head_dim)
        if kv_bits:
            cross = [tuple(CompressedTensor.compress(t, kv_bits, kv_rank) for t in pair) for pair in cross]
            keys = [QuantizedSelfCache(shape, kv_bits) for _ in self.decoder.layers]
            values = [QuantizedSelfCache(shape, kv_bits) for _ in self.decoder.layers]
        else:
            keys = [encoded.new_zeros(shape) for _ in self.decoder.layers]
            values = [encoded.new_zeros(shape) for _ in self.decoder.layers]
        return DecoderState(cross, keys, values, batch)

    @torch.inference_mode()
    def hidden(self, tokens: torch.Tensor, state: DecoderState, layers: int | None = None) -> torch.Tensor:
        """Run `tokens` (batch, n) at the next n positions through the first `layers` decoder layers.

        Writes their keys/values into the cache and advances `state.length`; returns the
        hidden states after the decoder's final layer norm (batch, n, d_model).
        """
        start, n = state.length, tokens.shape[1]
        if start + n > self.max_positions:
            raise ValueError(f"decoder context is full ({self.max_positions} positions)")
        x = self.decoder.embed_tokens(tokens) + self.decoder.embed_positions.weight[start:start + n]
        mask = None
        if n > 1:  # new tokens attend to the cache and causally to each other
            mask = torch.ones(n, start + n, dtype=torch.bool, device=x.device).tril(diagonal=start)
        for index, layer in enumerate(self.decoder.layers[:layers]):
            x = x + self._self_attention(layer, layer.self_attn_layer_norm(x), state, index, start, mask)
            x = x + self._cross_attention(layer, layer.encoder_attn_layer_norm(x), state.cross[index])
            x = x + layer.fc2(F.gelu(layer.fc1(layer.final_layer_norm(x))))
        state.length = start + n
        return self.decoder.layer_norm(x)

    @torch.inference_mode()
    def logits(self, hidden: torch.Tensor, vocabulary: torch.Tensor | None = None) -> torch.Tensor:
        """Output projection; with `vocabulary` (token-embedding rows) only over those tokens."""
        with torch.profiler.record_function("output_projection"):  # a label for bench/decoding.py's profile
            return self.output(hidden) if vocabulary is None else F.linear(hidden, vocabulary)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], self.heads * self.head_dim)

    def _self_attention(self, layer, x, state: DecoderState, index: int, start: int, mask) -> torch.Tensor:
        attn = layer.self_attn
        end = start + x.shape[1]
        keys, values = state.keys[index], state.values[index]
        if isinstance(keys, QuantizedSelfCache):
            keys.write(start, self._heads(attn.k_proj(x)))
            values.write(start, self._heads(attn.v_proj(x)))
            keys, values = keys.read(end), values.read(end)
        else:
            keys[:, :, start:end] = self._heads(attn.k_proj(x))
            values[:, :, start:end] = self._heads(attn.v_proj(x))
            keys, values = keys[:, :, :end], values[:, :, :end]
        out = F.scaled_dot_product_attention(self._heads(attn.q_proj(x)), keys, values, attn_mask=mask)
        return attn.out_proj(self._merge(out))

    def _cross_attention(self, layer, x, cross: tuple) -> torch.Tensor:
        attn = layer.encoder_attn
        keys, values = (t.restore() if isinstance(t, CompressedTensor) else t for t in cross)
        out = F.scaled_dot_product_attention(self._heads(attn.q_proj(x)), keys, values)
        return attn.out_proj(self._merge(out))


class LogitRules:
    """Whisper's token suppression, as CTranslate2 and `generate` apply it: the config's
    `suppress_tokens` at every step, `begin_suppress_tokens` (blank, end of text) at the first."""

    def __init__(self, vocab_size: int, suppress: list[int], begin_suppress: list[int]):
        self.always = torch.zeros(vocab_size, dtype=torch.bool)
        self.always[[t for t in suppress if 0 <= t < vocab_size]] = True
        self.first = self.always.clone()
        self.first[[t for t in begin_suppress if 0 <= t < vocab_size]] = True

    @classmethod
    def for_model(cls, model) -> "LogitRules":
        g = model.generation_config
        return cls(model.config.vocab_size, list(g.suppress_tokens or []), list(g.begin_suppress_tokens or []))

    def restrict(self, token_ids: torch.Tensor) -> "LogitRules":
        """The same rules over a sub-vocabulary `token_ids` (for reduced-vocabulary drafting)."""
        rules = object.__new__(LogitRules)
        rules.always, rules.first = self.always[token_ids], self.first[token_ids]
        return rules

    def mask(self, positions: int, first_generated: int) -> torch.Tensor:
        """The suppressed tokens (positions, vocab) for `positions` predictions, as `apply` masks them."""
        mask = self.always.expand(positions, -1).clone()
        if 0 <= first_generated < positions:
            mask[first_generated] = self.first
        return mask

    def apply(self, logits: torch.Tensor, first_generated: int, tokens: list[int] | None = None) -> torch.Tensor:
        """`logits` (..., n, vocab) with suppressed tokens at -inf; position `first_generated` of n is the first
        generated token (negative or >= n when none of them is). `tokens` (the sequence the rows continue) is
        for rules that depend on it (long-form timestamps); these do not."""
        logits = logits.masked_fill(self.always, -np.inf)
        if 0 <= first_generated < logits.shape[-2]:
            logits[..., first_generated, :].masked_fill_(self.first, -np.inf)
        return logits
