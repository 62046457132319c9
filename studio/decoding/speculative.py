"""Draft-and-verify greedy decoding: cheap drafters propose tokens, the full model checks them in one pass.

Every drafter here is lossless in greedy mode: the verifier runs the full target model
over the last token plus the drafts, and the acceptance rule keeps a draft token only if
it equals the target's own argmax at that position. Each round therefore emits the
accepted drafts plus one token from the target, exactly the tokens plain greedy decoding
would give (up to floating-point differences between a one-token and an n-token matmul,
which the tests check on real utterances).

Roles (one method each), assembled in `SpeculativeDecoder.__init__`:
- a drafter (`propose`): `ModelDrafter` (a smaller Whisper, through text),
  `EarlyExitDrafter` (the target's first k layers, optionally over a reduced vocabulary),
  `PromptLookupDrafter` (n-grams already decoded, or a cheap first-pass transcript);
  `JacobiDrafter` (the target's own predictions from its previous pass: Jacobi iteration);
- the verifier (`verify`): the full target model over last token + drafts, its argmax from the
  fp32 head or, with `ExactInt8Head`, from int8 scores with fp32 rescoring of the tokens that could win;
- the acceptance rule (`accept`): the longest prefix of drafts equal to the target's argmax, or
  (lossy) `accept_within_tolerance`: drafts within a probability gap of the top token;
- the draft length: fixed, or `AdaptiveDraftLength` from the running acceptance rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import torch

from studio.decoding.exact_head import ExactInt8Head
from studio.decoding.lean import DecoderState, LeanWhisper, LogitRules
from studio.timing import StageTimer


@dataclass(frozen=True)
class Round:
    """One target step: what was drafted, how much was accepted, and the tokens it emitted."""

    drafted: tuple[int, ...]
    accepted: int  # leading draft tokens the target agreed with
    emitted: tuple[int, ...]  # accepted drafts + the target's own next token (end of text cut off)
    draft_layers: int | None = None  # early exit: the k that drafted this round
    rescored: int = 0  # output_proj=int8_exact: vocabulary rows rescored in fp32 this round


@dataclass
class DecodeStats:
    """What a decoding run did; `accepted <= drafted` always."""

    drafted: int = 0
    accepted: int = 0
    target_steps: int = 0  # forward passes of the full target model after the prompt
    tokens: int = 0  # tokens emitted (end of text excluded)
    draft_layers: list[int] = field(default_factory=list)  # early exit: k used in each round
    rescored: int = 0  # output_proj=int8_exact: vocabulary rows rescored in fp32
    cache_bytes: int = 0  # lean: bytes of the KV cache (cross-attention + positions used) at the end

    def add(self, step: Round) -> None:
        self.drafted += len(step.drafted)
        self.accepted += step.accepted
        self.target_steps += 1
        self.tokens += len(step.emitted)
        self.rescored += step.rescored
        if step.draft_layers is not None:
            self.draft_layers.append(step.draft_layers)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.drafted if self.drafted else None

    @property
    def tokens_per_step(self) -> float | None:
        """Mean tokens emitted per target forward pass (1.0 for plain greedy)."""
        return self.tokens / self.target_steps if self.target_steps else None

    def as_details(self) -> dict:
        details = {"drafted": self.drafted, "accepted": self.accepted, "target_steps": self.target_steps,
                   "tokens": self.tokens, "acceptance_rate": _rounded(self.acceptance_rate),
                   "tokens_per_target_step": _rounded(self.tokens_per_step)}
        if self.draft_layers:
            details["mean_draft_layers"] = round(sum(self.draft_layers) / len(self.draft_layers), 2)
        if self.rescored:
            details["rescored_rows"] = self.rescored
        if self.cache_bytes:
            details["cache_bytes"] = self.cache_bytes
        return details


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class Drafter(Protocol):
    def propose(self, sequence: list[int], budget: int) -> list[int]:
        """Up to `budget` guesses for the tokens after `sequence` (prompt + generated so far)."""

    def observe(self, drafted: int, accepted: int) -> None:
        """Feedback after verification (adaptive drafters use it). A drafter may also define
        `follow(predictions, accepted)` to see the verifier's argmax at every position (Jacobi does)."""


def first_generated_offset(sequence_length: int, prompt_length: int) -> int:
    """Index, among the next predictions, of the first generated token (negative when it is already past)."""
    return prompt_length - sequence_length


class GreedyVerifier:
    """The full target model over [last token] + drafts: its greedy choice after each of them; with `head`
    the argmax comes from int8 scores and fp32 rescoring (exact, see `ExactInt8Head`). It keeps the final
    decoder states of its last pass (`last_hidden`) for a drafter that reads them (Medusa heads)."""

    def __init__(self, target: LeanWhisper, rules: LogitRules, head: ExactInt8Head | None = None):
        self.target, self.rules, self.head = target, rules, head
        self.rescored = 0  # rows rescored in fp32 by the last verification
        self.last_hidden: torch.Tensor | None = None  # (positions, d) of the last verification

    def verify(self, state: DecoderState, tokens: list[int], first_generated: int, prefix: list[int] = ()) -> list[int]:
        """`prefix`: the tokens before `tokens` (rules that depend on the sequence, e.g. timestamps, read it)."""
        hidden = self.target.hidden(torch.tensor([tokens]), state)
        self.last_hidden = hidden[0]
        if self.head is not None:  # LogitRules only: timestamp rules read the full logits (refused in options)
            predictions, counts = self.head.argmax(hidden[0], self.rules.mask(len(tokens), first_generated))
            self.rescored = int(counts.sum())
            return predictions.tolist()
        return self.scores(hidden, first_generated, [*prefix, *tokens]).argmax(-1).tolist()

    def scores(self, hidden: torch.Tensor, first_generated: int, sequence: list[int]) -> torch.Tensor:
        return self.rules.apply(self.target.logits(hidden)[0], first_generated, sequence)


class TolerantVerifier(GreedyVerifier):
    """The greedy verifier that also keeps the target's probabilities, for relaxed acceptance."""

    def __init__(self, target: LeanWhisper, rules: LogitRules, tolerance: float):
        super().__init__(target, rules)
        self.tolerance = tolerance
        self.probabilities = torch.empty(0)  # (positions, vocab) of the last verification

    def scores(self, hidden: torch.Tensor, first_generated: int, sequence: list[int]) -> torch.Tensor:
        logits = super().scores(hidden, first_generated, sequence)
        self.probabilities = logits.softmax(-1)
        return logits

    def accept(self, drafts: list[int], predictions: list[int]) -> int:
        return accept_within_tolerance(drafts, predictions, self.probabilities, self.tolerance)


def accept_matching_prefix(drafts: list[int], predictions: list[int]) -> int:
    """Greedy acceptance: keep drafts while they equal the target's argmax (lossless)."""
    accepted = 0
    while accepted < len(drafts) and drafts[accepted] == predictions[accepted]:
        accepted += 1
    return accepted


def accept_within_tolerance(drafts: list[int], predictions: list[int], probabilities: torch.Tensor,
                            tolerance: float) -> int:
    """Relaxed acceptance (LANTERN-style, lossy): keep drafts while each is the target's argmax or has a target
    probability at most `tolerance` below the top token's at its position (`probabilities`: positions x vocab)."""
    accepted = 0
    while accepted < len(drafts):
        row, draft, top = probabilities[accepted], drafts[accepted], predictions[accepted]
        if draft != top and float(row[top] - row[draft]) > tolerance:
            break
        accepted += 1
    return accepted


class AdaptiveDraftLength:
    """Draft length from the running acceptance rate (ADED-style), for any drafter.

    p, the chance that a draft token is accepted when the one before it was, is estimated over
    recent rounds (exponentially weighted) as accepted / (accepted + rejections); a round rejects
    at most once. Draft position i is reached and accepted with chance p^i, so the draft is as
    long as that stays at least `min_gain` (a drafted token is worth its extra cost).
    """

    def __init__(self, longest: int = 16, min_gain: float = 0.25, decay: float = 0.8):
        self.longest, self.min_gain, self.decay = longest, min_gain, decay
        self.accepted, self.rejected = 1.0, 1.0  # prior: p = 1/2

    @property
    def rate(self) -> float:
        return self.accepted / (self.accepted + self.rejected)

    def length(self) -> int:
        p = self.rate
        if p <= self.min_gain:
            return 1
        return max(1, min(self.longest, int(math.log(self.min_gain) / math.log(p)) if p < 1 else self.longest))

    def update(self, drafted: int, accepted: int) -> None:
        if drafted:
            self.accepted = self.decay * self.accepted + accepted
            self.rejected = self.decay * self.rejected + (accepted < drafted)


class SpeculativeDecoder:
    """Greedy decoding of one utterance with a drafter and the full model as verifier."""

    def __init__(self, target: LeanWhisper, rules: LogitRules, drafter: Drafter, draft_tokens: int,
                 eot: int, max_new_tokens: int, timer: StageTimer, verifier: GreedyVerifier | None = None,
                 accept: Callable[[list[int], list[int]], int] = accept_matching_prefix):
        self.drafter = drafter  # proposes up to draft_tokens continuations per round
        self.verifier = verifier or GreedyVerifier(target, rules)  # one full-model pass over last token + drafts
        self.accept = accept  # acceptance rule: exact greedy agreement unless a relaxed rule is given
        self.draft_length = AdaptiveDraftLength() if draft_tokens == 0 else None  # draft_tokens=0: adapt
        watch = getattr(drafter, "watch", None)  # a drafter that reads the verifier's states (Medusa heads)
        if watch:
            watch(self.verifier)
        self.target, self.draft_tokens, self.eot = target, draft_tokens, eot
        self.max_new_tokens, self.timer = max_new_tokens, timer

    def rounds(self, state: DecoderState, prompt: list[int]) -> Iterator[Round]:
        """Decode from `prompt`, yielding each round as soon as it is verified."""
        if len(prompt) > 1:  # an English-only model's long-form prompt is the start token alone
            with self.timer.stage("verify"):  # prefill: every prompt token but the last enters the cache
                self.target.hidden(torch.tensor([prompt[:-1]]), state)
        sequence = list(prompt)
        while True:
            generated = len(sequence) - len(prompt)
            wanted = self.draft_length.length() if self.draft_length else self.draft_tokens
            budget = min(wanted, self.max_new_tokens - generated - 1,
                         self.target.max_positions - len(sequence) - 1)
            layers = getattr(self.drafter, "layers", None)  # early exit reports its k (it may adapt)
            with self.timer.stage("draft"):
                drafts = self.drafter.propose(sequence, budget)[:max(budget, 0)] if budget > 0 else []
            with self.timer.stage("verify"):
                predictions = self.verifier.verify(state, [sequence[-1]] + drafts,
                                                   first_generated_offset(len(sequence), len(prompt)), sequence[:-1])
            accepted = self.accept(drafts, predictions)
            state.truncate(len(sequence) + accepted)  # the new last token is not in the cache yet
            self.drafter.observe(len(drafts), accepted)
            if self.draft_length:
                self.draft_length.update(len(drafts), accepted)
            follow = getattr(self.drafter, "follow", None)
            if follow:
                follow(predictions, accepted)
            emitted = drafts[:accepted] + [predictions[accepted]]
            done = self.eot in emitted or generated + len(emitted) >= self.max_new_tokens
            if self.eot in emitted:
                emitted = emitted[:emitted.index(self.eot)]
            sequence += emitted
            yield Round(tuple(drafts), accepted, tuple(emitted), layers, self.verifier.rescored)
            if done:
                return


class EarlyExitDrafter:
    """Self-speculation: the target's first k decoder layers, its final norm and output head draft.

    The drafted positions write the target's own cache for layers < k; verification
    rewrites them, so nothing is reused wrongly. With `vocabulary` the head scores only
    those token ids (the 51,865-way projection is a large share of each CPU step).
    `layers=0` adapts k: one layer deeper after a round with under half accepted, one
    shallower after a round with all accepted.
    """

    def __init__(self, target: LeanWhisper, state: DecoderState, rules: LogitRules, eot: int, prompt_length: int,
                 layers: int = 0, vocabulary: torch.Tensor | None = None):
        self.target, self.state, self.eot, self.prompt_length = target, state, eot, prompt_length
        self.adaptive = layers == 0
        self.layers = max(1, target.num_layers // 2) if self.adaptive else layers
        self.token_ids = vocabulary
        self.head = None if vocabulary is None else target.decoder.embed_tokens.weight[vocabulary].contiguous()
        self.rules = rules if vocabulary is None else rules.restrict(vocabulary)

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        length, token, drafts = self.state.length, sequence[-1], []
        for i in range(budget):
            hidden = self.target.hidden(torch.tensor([[token]]), self.state, layers=self.layers)
            logits = self.rules.apply(self.target.logits(hidden, self.head)[0],
                                      first_generated_offset(len(sequence) + i, self.prompt_length))
            best = int(logits[-1].argmax())
            token = best if self.token_ids is None else int(self.token_ids[best])
            drafts.append(token)
            if token == self.eot:
                break
        self.state.truncate(length)
        return drafts

    def observe(self, drafted: int, accepted: int) -> None:
        if not self.adaptive or not drafted:
            return
        if accepted * 2 < drafted and self.layers < self.target.num_layers - 1:
            self.layers += 1
        elif accepted == drafted and self.layers > 1:
            self.layers -= 1


def frequent_vocabulary(rules: LogitRules, size: int, eot: int) -> torch.Tensor:
    """The `size` lowest token ids plus end of text, minus always-suppressed tokens.

    No token counts ship with the model; in a byte-level BPE vocabulary ids follow merge
    order, and early merges are the frequent pieces, so low ids stand in for frequent ones.
    """
    ids = torch.arange(min(size, eot))
    ids = ids[~rules.always[:len(ids)]]
    return torch.cat([ids, torch.tensor([eot])])


class PromptLookupDrafter:
    """Drafts by copying what followed an earlier occurrence of the last n generated tokens.

    LLM prompt lookup searches the prompt; an ASR decoder has no text prompt, so the
    lookup text is what was generated so far plus, optionally, a `reference`: a cheap
    first-pass transcript of the same clip (ending in end of text). While the output
    follows the reference, the draft is simply its next tokens.
    """

    def __init__(self, prompt_length: int, ngram: int = 3, reference: list[int] | None = None):
        self.prompt_length, self.ngram, self.reference = prompt_length, ngram, list(reference or [])

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        generated = sequence[self.prompt_length:]
        if self.reference and generated == self.reference[:len(generated)]:
            return self.reference[len(generated):len(generated) + budget]
        for n in range(min(self.ngram, len(generated)), 0, -1):
            tail = generated[-n:]
            starts = [s for s in range(len(self.reference) - n) if self.reference[s:s + n] == tail]
            if starts:  # the occurrence nearest to where the output is (transcripts run in step)
                start = min(starts, key=lambda s: abs(s - (len(generated) - n)))
                return self.reference[start + n:start + n + budget]
            for start in range(len(generated) - n - 1, -1, -1):  # the latest earlier occurrence in the output
                if generated[start:start + n] == tail:
                    return generated[start + n:start + n + budget]
        return []

    def observe(self, drafted: int, accepted: int) -> None:
        pass


class JacobiDrafter:
    """Jacobi decoding as a drafter: the guesses for the next window are the target's own predictions
    for those positions from its previous pass (one fixed-point iteration per target pass).

    Greedy decoding is the fixed point of y_i = argmax p(y | y_<i); a pass over [last token] +
    guesses updates every guess at once, and the prefix that reproduces itself is final (the
    matching-prefix rule), so the output is greedy's. Positions beyond the carried-over guesses
    start as copies of the last known token (Jacobi's arbitrary initialisation).
    """

    def __init__(self):
        self.guesses: list[int] = []

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        guesses = self.guesses[:budget]
        fill = guesses[-1] if guesses else sequence[-1]
        return guesses + [fill] * (budget - len(guesses))

    def observe(self, drafted: int, accepted: int) -> None:
        pass

    def follow(self, predictions: list[int], accepted: int) -> None:
        """After [last] + drafts, position `accepted` gave the next token; what follows it are the new guesses."""
        self.guesses = predictions[accepted + 1:]


class ModelDrafter:
    """A smaller Whisper drafts greedily; its tokens cross to the target through text.

    tiny.en and base have different tokenizers, so the target's tokens so far are decoded
    to text, re-tokenised for the drafter (its cache is kept for the longest common
    prefix), and the drafted text is tokenised back with the target's tokenizer.
    """

    def __init__(self, draft: LeanWhisper, state: DecoderState, rules: LogitRules, draft_tokenizer, draft_prompt: list[int],
                 draft_eot: int, target_tokenizer, target_eot: int, target_prompt_length: int):
        self.draft, self.state, self.rules = draft, state, rules
        self.draft_tokenizer, self.draft_prompt, self.draft_eot = draft_tokenizer, draft_prompt, draft_eot
        self.target_tokenizer, self.target_eot, self.target_prompt_length = target_tokenizer, target_eot, target_prompt_length
        self.cached: list[int] = []  # drafter tokens whose keys/values are in its cache

    def propose(self, sequence: list[int], budget: int) -> list[int]:
        text = self.target_tokenizer.decode(sequence[self.target_prompt_length:])
        context = self.draft_prompt + self.draft_tokenizer.encode(text, add_special_tokens=False)
        keep = min(_common_prefix(self.cached, context), len(context) - 1)
        self.state.truncate(keep)
        pending, drafts = context[keep:], []
        self.cached = context[:keep]
        while len(drafts) < budget:
            hidden = self.draft.hidden(torch.tensor([pending]), self.state)
            self.cached += pending
            logits = self.rules.apply(self.draft.logits(hidden[:, -1:])[0],
                                      first_generated_offset(len(self.cached), len(self.draft_prompt)))
            token = int(logits[-1].argmax())
            if token == self.draft_eot:
                break
            drafts.append(token)
            pending = [token]
        crossed = self.target_tokenizer.encode(self.draft_tokenizer.decode(drafts), add_special_tokens=False)
        if len(drafts) < budget:  # the drafter ended the text
            crossed.append(self.target_eot)
        return crossed[:budget]

    def observe(self, drafted: int, accepted: int) -> None:
        pass


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
