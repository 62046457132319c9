"""The int8 output projection's error bounds hold and its argmax is the fp32 one (random weights and inputs)."""

from __future__ import annotations

import pytest
import torch

from studio.decoding.exact_head import ExactInt8Head


def _weights(seed: int, vocab: int = 3000, dim: int = 96) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(vocab, dim, generator=generator) * torch.rand(vocab, 1, generator=generator) * 3
    weight[:, :4] *= 20  # outlier columns, as trained embeddings have
    return weight


@pytest.mark.parametrize("seed", range(6))
def test_true_logits_lie_within_the_bounds(seed):
    weight = _weights(seed)
    head = ExactInt8Head(weight)
    generator = torch.Generator().manual_seed(100 + seed)
    for scale in (0.01, 1.0, 30.0):
        hidden = torch.randn(5, weight.shape[1], generator=generator) * scale
        hidden[:, 1] += scale * 10  # an outlier activation stretches the activation grid
        approx, bound = head.approximate(hidden)
        for true in (hidden @ weight.T, (hidden.double() @ weight.double().T).float()):  # fp32 and exact-ish
            assert ((true - approx).abs() <= bound).all()
        assert (bound < approx.abs().amax(dim=-1, keepdim=True)).float().mean() > 0.5  # a bound, not infinity


@pytest.mark.parametrize("seed", range(4))
def test_argmax_is_the_fp32_argmax_over_the_allowed_tokens(seed):
    weight = _weights(seed)
    head = ExactInt8Head(weight)
    generator = torch.Generator().manual_seed(200 + seed)
    hidden = weight[torch.randint(0, len(weight), (8,), generator=generator)] * 0.5  # peaked logits, like decoding
    hidden += torch.randn(hidden.shape, generator=generator) * 0.3
    suppressed = torch.rand(8, len(weight), generator=generator) < 0.1
    best, counts = head.argmax(hidden, suppressed)
    expected = (hidden @ weight.T).masked_fill(suppressed, float("-inf")).argmax(-1)
    assert best.tolist() == expected.tolist()
    assert (counts >= 1).all() and (counts < len(weight)).all()
    assert head.positions == 8 and head.rescored == int(counts.sum())
