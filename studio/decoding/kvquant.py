"""A quantised KV cache (GEAR-style): int8 or int4 codes, one scale per cached vector, and an optional
low-rank correction of the quantisation residual.

Each cached key or value vector (one position of one head) is quantised symmetrically to
`bits` with its own fp32 scale; int4 codes are packed two to a byte. The cross-attention
keys/values (the encoder's 1500 positions, the larger cache in Whisper) are compressed once, and
with `rank` > 0 each head also keeps the rank-r SVD of its residual (GEAR's low-rank term).
Self-attention positions are quantised as they are written (GEAR's periodic recompression of
a streaming buffer is not reproduced). Attention dequantises what it reads, so the cache is
smaller but each step does more work: on a CPU this trades speed for memory.
Hand-written because torch has no quantised KV cache for transformers' Whisper modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

LEVELS = {8: 127, 4: 7}  # symmetric code range per bit width


def quantize(x: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (int8; int4 packed in uint8 pairs along the last axis) and per-vector scales (..., 1)."""
    levels = LEVELS[bits]
    scales = (x.abs().amax(dim=-1, keepdim=True) / levels).clamp_min(1e-12)
    codes = (x / scales).round().clamp(-levels, levels).to(torch.int8)
    if bits == 4:
        nibbles = (codes + 8).to(torch.uint8)  # 1..15
        codes = nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)
    return codes, scales


def dequantize(codes: torch.Tensor, scales: torch.Tensor, bits: int) -> torch.Tensor:
    if bits == 4:
        low, high = (codes & 15).to(torch.int8) - 8, (codes >> 4).to(torch.int8) - 8
        codes = torch.stack((low, high), dim=-1).flatten(-2)
    return codes.float() * scales


@dataclass
class CompressedTensor:
    """A (batch, heads, positions, head_dim) tensor as codes, scales and a low-rank residual."""

    codes: torch.Tensor
    scales: torch.Tensor
    bits: int
    left: torch.Tensor | None = None  # (batch, heads, positions, rank): U·S of the residual
    right: torch.Tensor | None = None  # (batch, heads, rank, head_dim)

    @classmethod
    def compress(cls, x: torch.Tensor, bits: int, rank: int = 0) -> "CompressedTensor":
        codes, scales = quantize(x, bits)
        if not rank:
            return cls(codes, scales, bits)
        u, s, vh = torch.linalg.svd(x - dequantize(codes, scales, bits), full_matrices=False)
        return cls(codes, scales, bits, (u[..., :rank] * s[..., None, :rank]).contiguous(),
                   vh[..., :rank, :].contiguous())

    def restore(self) -> torch.Tensor:
        x = dequantize(self.codes, self.scales, self.bits)
        return x if self.left is None else x + self.left @ self.right

    @property
    def nbytes(self) -> int:
        parts = (self.codes, self.scales, self.left, self.right)
        return sum(p.numel() * p.element_size() for p in parts if p is not None)


class QuantizedSelfCache:
    """One layer's self-attention keys or values, preallocated as codes and scales, quantised as written."""

    def __init__(self, shape: tuple[int, int, int, int], bits: int):
        batch, heads, positions, head_dim = shape
        width = head_dim // 2 if bits == 4 else head_dim
        self.codes = torch.zeros(batch, heads, positions, width, dtype=torch.uint8 if bits == 4 else torch.int8)
        self.scales = torch.zeros(batch, heads, positions, 1)
        self.bits = bits

    def write(self, start: int, x: torch.Tensor) -> None:
        codes, scales = quantize(x, self.bits)
        self.codes[:, :, start:start + x.shape[2]] = codes
        self.scales[:, :, start:start + x.shape[2]] = scales

    def read(self, end: int) -> torch.Tensor:
        return dequantize(self.codes[:, :, :end], self.scales[:, :, :end], self.bits)

    def nbytes(self, length: int) -> int:
        """Bytes holding the first `length` positions."""
        per_position = self.codes[:, :, :1].numel() * self.codes.element_size() + self.scales[:, :, :1].numel() * 4
        return per_position * length
