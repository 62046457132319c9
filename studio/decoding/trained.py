"""Trained drafters that share the target's encoder: Medusa-style heads and a trained early-exit head.

Both read the target's own decoder states, so drafting costs no second encoder (what held
tiny.en drafting and the first-pass lookup back in docs/decoding.md). They are trained by
self-distillation on Whisper base's own greedy outputs (`scripts/train_drafters.py`) and
ship as one safetensors file in `assets/drafters/`.

- `MedusaHeads`: K residual blocks on the last decoder state h_t (after the final norm);
  head i proposes token t+1+i through the model's frozen output projection.
- `ExitAdapter`: a residual MLP on the first k decoder layers' state (through the final
  norm), then the frozen projection: the model's own next-token guess from k of its layers.

Both score only the file's draft vocabulary (the tokens seen in training plus the lowest
ids): the 51,865-way projection is half a CPU decoder step, and verification by the full
model keeps every result exact whatever the drafts are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from studio.assets import ASSETS
from studio.decoding.lean import DecoderState, LeanWhisper, LogitRules
from studio.decoding.speculative import GreedyVerifier, first_generated_offset
from studio.errors import ModelUnavailable

DRAFTERS_DIR = ASSETS / "drafters"
FORMAT = "1"  # bump when the tensor layout changes; the file's metadata carries it


def drafters_path(target: str) -> Path:
    return DRAFTERS_DIR / f"whisper-{target}-drafters.safetensors"


class MedusaHeads(torch.nn.Module):
    """K heads y_i = h + SiLU(W_i h + b_i) (Medusa-1's block); logits come from the frozen projection.
    Zero-initialised W_i make every head start as the model's own next-token head."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.blocks = torch.nn.ModuleList(torch.nn.Linear(d_model, d_model) for _ in range(heads))
        for block in self.blocks:
            torch.nn.init.zeros_(block.weight)
            torch.nn.init.zeros_(block.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., d) -> (..., K, d): the state each head hands to the output projection."""
        return torch.stack([hidden + F.silu(block(hidden)) for block in self.blocks], dim=-2)


class ExitAdapter(torch.nn.Module):
    """y = h + W2 GELU(W1 h) on a lower layer's normed state; W2 starts at zero (the untrained early exit)."""

    def __init__(self, d_model: int, width: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(d_model, width)
        self.fc2 = torch.nn.Linear(width, d_model)
        torch.nn.init.zeros_(self.fc2.weight)
        torch.nn.init.zeros_(self.fc2.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.fc2(F.gelu(self.fc1(hidden)))


@dataclass
class TrainedDrafters:
    """The committed heads of one target, with the draft vocabulary and the exit layer they were trained for."""

    medusa: MedusaHeads
    exit_adapter: ExitAdapter
    exit_layer: int
    vocabulary: torch.Tensor  # token ids the heads score (int64)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {**{f"medusa.{k}": v for k, v in self.medusa.state_dict().items()},
                **{f"exit.{k}": v for k, v in self.exit_adapter.state_dict().items()},
                "vocabulary": self.vocabulary}

    @property
    def parameters(self) -> int:
        return sum(p.numel() for m in (self.medusa, self.exit_adapter) for p in m.parameters())


def save_drafters(drafters: TrainedDrafters, path: Path, target: str, config) -> None:
    """fp16 safetensors (a few MB); the metadata names the target's dimensions, checked on load."""
    from safetensors.torch import save_file

    tensors = {k: (v if k == "vocabulary" else v.detach().half()).contiguous() for k, v in drafters.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={
        "format": FORMAT, "target": target, "d_model": str(config.d_model), "vocab_size": str(config.vocab_size),
        "decoder_layers": str(config.decoder_layers), "exit_layer": str(drafters.exit_layer),
        "medusa_heads": str(len(drafters.medusa.blocks)), "exit_width": str(drafters.exit_adapter.fc1.out_features)})


def load_drafters(target: str, config, path: Path | None = None) -> TrainedDrafters:
    """The heads trained for Whisper `target`; `ModelUnavailable` with what to do when missing or mismatched."""
    from safetensors import safe_open

    path = path or drafters_path(target)
    remedy = f"run `python scripts/train_drafters.py --target {target}` to make it"
    if not path.exists():
        raise ModelUnavailable(f"trained drafters for Whisper {target} are missing ({path}); {remedy}")
    with safe_open(str(path), framework="pt") as file:
        meta = file.metadata() or {}
        tensors = {k: file.get_tensor(k) for k in file.keys()}
    expected = {"format": FORMAT, "target": target, "d_model": str(config.d_model),
                "vocab_size": str(config.vocab_size), "decoder_layers": str(config.decoder_layers)}
    wrong = {k: (meta.get(k), v) for k, v in expected.items() if meta.get(k) != v}
    if wrong:
        found = ", ".join(f"{k}={got} (model: {want})" for k, (got, want) in wrong.items())
        raise ModelUnavailable(f"{path} does not match Whisper {target}: {found}; {remedy}")
    d_model = config.d_model
    medusa = MedusaHeads(d_model, int(meta["medusa_heads"]))
    exit_adapter = ExitAdapter(d_model, int(meta["exit_width"]))
    medusa.load_state_dict({k[len("medusa."):]: v.float() for k, v in tensors.items() if k.startswith("medusa.")})
    exit_adapter.load_state_dict({k[len("exit."):]: v.float() for k, v in tensors.items() if k.startswith("exit.")})
    return TrainedDrafters(medusa.eval().requires_grad_(False), exit_adapter.eval().requires_grad_(False),
                           int(meta["exit_layer"]), tensors["vocabulary"].long())


class MedusaDrafter:
    """Medusa chain drafting: from the state that gave the last verified token, head i guesses the i-th
    token after it. One step of K tiny heads replaces K draft-model steps; the first round (no state yet)
    drafts nothing. The decoder hands it its verifier (`watch`), which keeps the states the heads read."""

    def __init__(self, target: LeanWhisper, rules: LogitRules, drafters: TrainedDrafters, eot: int):
        self.heads = drafters.medusa
        self.token_ids = drafters.vocabulary
        self.projection = target.decoder.embed_tokens.weight[drafters.vocabulary].detach().contiguous()
        self.rules = rules.restrict(drafters.vocabulary)
        self.eot = eot
        self.verifier: GreedyVerifier | None = None
        self.hidden: torch.Tensor | None = None  # (d,) final decoder state that predicted the last token

    def watch(self, verifier: GreedyVerifier) -> None:
        self.verifier = verifier

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        if self.hidden is None:
            return []
        heads = len(self.heads.blocks)
        logits = self.rules.apply(F.linear(self.heads(self.hidden), self.projection), -1)  # never the first token
        drafts = []
        for index in logits[:min(budget, heads)].argmax(-1).tolist():
            drafts.append(int(self.token_ids[index]))
            if drafts[-1] == self.eot:
                break
        return drafts

    def observe(self, drafted: int, accepted: int) -> None:
        self.hidden = self.verifier.last_hidden[accepted]  # the state that predicted the round's last token


class TrainedExitDrafter:
    """Self-speculation through the target's first k layers and a trained exit head, drafting while the head's
    top probability stays at least `confidence` (confidence-adaptive draft length, as in dynamic-exit
    drafting). The drafted positions write the target's cache for layers < k; verification rewrites them."""

    def __init__(self, target: LeanWhisper, state: DecoderState, rules: LogitRules, drafters: TrainedDrafters,
                 eot: int, prompt_length: int, confidence: float):
        self.target, self.state, self.eot, self.prompt_length = target, state, eot, prompt_length
        self.layers = drafters.exit_layer  # the decoder reports it per round
        self.adapter = drafters.exit_adapter
        self.token_ids = drafters.vocabulary
        self.projection = target.decoder.embed_tokens.weight[drafters.vocabulary].detach().contiguous()
        self.rules = rules.restrict(drafters.vocabulary)
        self.confidence = confidence

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        length, token, drafts = self.state.length, sequence[-1], []
        for i in range(budget):
            hidden = self.target.hidden(torch.tensor([[token]]), self.state, layers=self.layers)
            logits = self.rules.apply(F.linear(self.adapter(hidden[0]), self.projection),
                                      first_generated_offset(len(sequence) + i, self.prompt_length))[-1]
            probability, best = logits.softmax(-1).max(-1)
            token = int(self.token_ids[best])
            drafts.append(token)
            if token == self.eot or float(probability) < self.confidence:
                break  # an unsure guess is still worth verifying; the ones after it are not
        self.state.truncate(length)
        return drafts

    def observe(self, drafted: int, accepted: int) -> None:
        pass
