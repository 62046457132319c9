"""An exact argmax over Whisper's vocabulary from a cheaper int8 output projection.

The 51,865-way fp32 projection reads 106 MB of weights per decoding step. Here every token is
scored with int8 weights (one scale per row), each int8 logit gets a rigorous error bound, and
only the tokens whose upper bound reaches the best lower bound are rescored with the fp32 rows.
The argmax of those rescored logits is the fp32 argmax: every other token is provably below it.

The bound, per vocabulary row r and hidden vector x (Cauchy–Schwarz on each error term):

    |W_r·x − approx_r| ≤ ‖W_r − Ŵ_r‖·‖x‖            int8 weights Ŵ = s_r·q_r
                       + ‖Ŵ_r‖·√d·scale_x/2          activations quantised to scale_x (per tensor)
                       + γ_(d+2)·(‖W_r‖ + ‖Ŵ_r‖)·(‖x‖ + √d·scale_x/2)   fp32 rounding, both sides

The int8 matmul is fbgemm's dynamic quantised linear (the op `quantize=true` uses), which
quantises the activations per tensor to 7-bit unsigned codes over [min(x, 0), max(x, 0)]
(`reduce_range`, so its int16 pair sums cannot saturate); round to nearest on that grid errs by
at most scale_x/2 per element, with scale_x = (max(x, 0) − min(x, 0))/127 (a finer grid only
shrinks it). Integer accumulation is exact. The row norms are computed once, so the per-step
cost of the bound is two multiply-adds over the vocabulary. Hand-written because no library
offers a bounded mixed-precision argmax.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

UNIT_ROUNDOFF = 2.0 ** -24  # fp32
ACTIVATION_LEVELS = 127  # fbgemm's dynamic activations with reduce_range: codes 0..127


class ExactInt8Head:
    """Int8 scoring with per-token error bounds and fp32 rescoring of the tokens that could win."""

    def __init__(self, weight: torch.Tensor):
        weight = weight.detach().float().contiguous()
        self.weight = weight  # the fp32 rows, for rescoring
        self.dim = weight.shape[1]
        scales = (weight.abs().amax(dim=1) / 127).clamp_min(1e-12).double()
        quantised = torch.quantize_per_channel(weight, scales, torch.zeros(len(scales), dtype=torch.long), 0,
                                               torch.qint8)
        self.packed = torch.ops.quantized.linear_prepack(quantised, None)
        dequantised = quantised.dequantize()
        q_norm = dequantised.norm(dim=1)
        gamma = (self.dim + 2) * UNIT_ROUNDOFF / (1 - (self.dim + 2) * UNIT_ROUNDOFF)
        rounding = gamma * (weight.norm(dim=1) + q_norm)
        self.per_x_norm = (weight - dequantised).norm(dim=1) + rounding  # multiplies ‖x‖
        self.per_activation_error = q_norm + rounding  # multiplies √d·scale_x/2
        self.positions = 0  # rows scored so far (each a full-vocabulary argmax)
        self.rescored = 0  # vocabulary rows rescored in fp32 so far

    def approximate(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Int8 logits (rows, vocab) of `hidden` (rows, d) and the bound on each one's error."""
        approx = torch.ops.quantized.linear_dynamic(hidden, self.packed, True)
        scale = (hidden.max().clamp_min(0) - hidden.min().clamp_max(0)) / ACTIVATION_LEVELS
        activation_error = math.sqrt(self.dim) * float(scale) / 2
        x_norm = hidden.norm(dim=-1, keepdim=True)
        bound = self.per_x_norm * x_norm + self.per_activation_error * activation_error
        return approx, bound

    def argmax(self, hidden: torch.Tensor, suppressed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The fp32 argmax over the tokens not `suppressed` (rows, vocab bool) for `hidden` (rows, d), and the
        number of rows rescored in fp32 for each."""
        with torch.profiler.record_function("output_projection"):
            approx, bound = self.approximate(hidden)
            lower = (approx - bound).masked_fill(suppressed, -math.inf)
            candidates = ((approx + bound) >= lower.amax(dim=-1, keepdim=True)) & ~suppressed
            ids = candidates.any(dim=0).nonzero().squeeze(1)  # the union over rows: one small matmul
            exact = F.linear(hidden, self.weight[ids]).masked_fill(~candidates[:, ids], -math.inf)
            counts = candidates.sum(dim=-1)
        self.positions += hidden.shape[0]
        self.rescored += int(counts.sum())
        return ids[exact.argmax(dim=-1)], counts
