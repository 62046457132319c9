"""Decoding strategies for PyTorch Whisper, side by side on the same utterances in one run.

    python bench/decoding.py [--target base] [--manifest ../shared/dev-speech/manifest.jsonl] [--repeats 1]
                             [--only "lean greedy" --only ...]
    python bench/decoding.py --long-form [--limit N] [--repeats 3]

`--long-form` decodes recordings of minutes by Whisper's sequential 30 s window loop
(`studio.decoding.longform`): the studio's long-form set (made into the cache on first use) and
`../shared/dev-speech` concatenated into one recording (benchmarks only). Contenders: greedy
`generate`, lean and every lossless drafting strategy of the STRATEGIES table, each in that loop,
and faster-whisper sequential against its chunked batched pipeline with VAD. Transformers' own
long-form `generate` (return_timestamps=True) runs once, untimed, to report its agreement with
the window loop's greedy tokens.

Every strategy decodes every clip (bucketed batches for the batched rows) after a one-clip
warm-up; contenders are interleaved by `bench.timer.race` and each figure is the best of
`repeats` runs. The baseline is transformers' greedy `generate`; "same tokens" counts the
clips whose token ids equal the baseline's exactly. faster-whisper int8 greedy is the
outside reference. WER is corpus-level after Whisper's English normaliser.

The breakdown table comes from `torch.profiler` on one clip per strategy: time inside the
labelled stages (encoder, draft, verify/decoder, output projection) and the part of the
wall time spent outside any aten/quantized kernel (Python and framework overhead; for the
first-pass lookup this also holds the faster-whisper first pass, which is not torch). Profiling
slows every op a little, so read it as shares, not as speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timer import context, print_report, race  # noqa: E402
from studio.audio import Audio, load_audio  # noqa: E402
from studio.bootstrap import build_registry  # noqa: E402
from studio.decoding.options import STRATEGIES, DecodingOptions  # noqa: E402
from studio.decoding.trained import drafters_path  # noqa: E402
from studio.metrics.wer import normalize, word_errors  # noqa: E402
from studio.timing import StageTimer  # noqa: E402

DEV_SPEECH = Path(__file__).resolve().parent.parent.parent / "shared" / "dev-speech" / "manifest.jsonl"
BASELINE = "generate greedy"
FASTER_WHISPER = "faster-whisper int8 greedy"

# name -> options; chosen before any run (draft_tokens=16 for first_pass lookup: its draft costs nothing per token)
CONTENDERS = {
    BASELINE: DecodingOptions(strategy="greedy"),
    "generate beam=5": DecodingOptions(strategy="beam", beam_size=5),
    "generate greedy, batch 4": DecodingOptions(strategy="greedy", batch_size=4),
    "lean greedy": DecodingOptions(strategy="lean"),
    "lean greedy, batch 4": DecodingOptions(strategy="lean", batch_size=4),
    "speculative (tiny.en drafts)": DecodingOptions(strategy="speculative"),
    "early exit k=2": DecodingOptions(strategy="early_exit", draft_layers=2),
    "early exit k=4, vocab 4096": DecodingOptions(strategy="early_exit", draft_layers=4, draft_vocab=4096),
    "early exit adaptive k": DecodingOptions(strategy="early_exit"),
    "prompt lookup (output)": DecodingOptions(strategy="prompt_lookup"),
    "prompt lookup (first pass)": DecodingOptions(strategy="prompt_lookup", lookup="first_pass", draft_tokens=16),
    "medusa (trained heads)": DecodingOptions(strategy="medusa"),
    "layer skip (trained exit, confidence 0.5)": DecodingOptions(strategy="layer_skip", draft_tokens=8),
    "lean, audio_ctx fit": DecodingOptions(strategy="lean", audio_ctx=0),
    "lean, int8": DecodingOptions(strategy="lean", quantize=True),
    # training-free methods (docs/decoding.md, "Training-free methods")
    "lean, exact int8 head": DecodingOptions(strategy="lean", output_proj="int8_exact"),
    "speculative, exact int8 head": DecodingOptions(strategy="speculative", output_proj="int8_exact"),
    "speculative, adaptive draft": DecodingOptions(strategy="speculative", draft_tokens=0),
    "speculative, adaptive draft, exact int8 head": DecodingOptions(strategy="speculative", draft_tokens=0,
                                                                    output_proj="int8_exact"),
    "prompt lookup (first pass), adaptive draft": DecodingOptions(strategy="prompt_lookup", lookup="first_pass",
                                                                  draft_tokens=0),
    "early exit adaptive k, adaptive draft": DecodingOptions(strategy="early_exit", draft_tokens=0),
    "jacobi window 5": DecodingOptions(strategy="jacobi"),
    "jacobi adaptive window, exact int8 head": DecodingOptions(strategy="jacobi", draft_tokens=0,
                                                               output_proj="int8_exact"),
    "speculative, tolerance 0.1": DecodingOptions(strategy="speculative", accept_tolerance=0.1),
    "speculative, tolerance 0.3": DecodingOptions(strategy="speculative", accept_tolerance=0.3),
    "lean, int8 KV cache": DecodingOptions(strategy="lean", kv_cache="int8"),
    "lean, int4 KV cache + rank-4 residual": DecodingOptions(strategy="lean", kv_cache="int4", kv_residual_rank=4),
    "lean, int4 KV cache": DecodingOptions(strategy="lean", kv_cache="int4"),
}


@dataclass(frozen=True)
class Utterance:
    key: str
    audio: Audio  # 16 kHz
    text: str


def load_utterances(manifest: Path | None) -> list[Utterance]:
    """dev-speech when present, else the bundled examples."""
    if manifest and manifest.exists():
        rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
        root = manifest.parent
    else:
        from studio.assets import EXAMPLES

        rows = [json.loads(line) for line in (EXAMPLES / "manifest.jsonl").read_text().splitlines() if line.strip()]
        root = EXAMPLES
    return [Utterance(Path(r["audio_filepath"]).stem, load_audio(root / r["audio_filepath"]).resample(16000), r["text"])
            for r in rows]


class ProfiledTimer(StageTimer):
    """The studio's stage timer whose stages are also profiler labels."""

    def stage(self, name: str):
        timed = super().stage(name)

        @contextlib.contextmanager
        def both():
            import torch

            with torch.profiler.record_function(name), timed:
                yield

        return both()


@dataclass
class Run:
    """The last timed run of one contender: per-clip tokens, texts and counters."""

    tokens: list[tuple[int, ...]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    drafted: int = 0
    accepted: int = 0
    target_steps: int = 0
    rescored: int = 0  # output_proj=int8_exact: vocabulary rows rescored in fp32
    cache_bytes: int = 0  # KV cache bytes summed over clips
    stage_seconds: dict[str, float] = field(default_factory=dict)


def torch_contender(lab, options: DecodingOptions, clips: list[Utterance], run: Run, long_form: bool = False):
    samples = [u.audio.samples for u in clips]
    seconds = sum(u.audio.duration for u in clips)

    def go() -> float:
        timer = StageTimer()
        if long_form:
            results = [lab.decode_long(s, options, timer) for s in samples]
        elif options.batch_size > 1:
            results = lab.decode(samples, options, timer)
        else:
            results = [lab.decode([s], options, timer)[0] for s in samples]
        run.tokens = [r.tokens for r in results]
        run.texts = [r.text for r in results]
        run.drafted = sum(r.stats.drafted for r in results)
        run.accepted = sum(r.stats.accepted for r in results)
        run.target_steps = sum(r.stats.target_steps for r in results)
        run.rescored = sum(r.stats.rescored for r in results)
        run.cache_bytes = sum(r.stats.cache_bytes for r in results)
        run.stage_seconds = dict(timer.seconds)
        return seconds

    return go


def faster_whisper_contender(registry, adapter_id: str, clips: list[Utterance], run: Run, **options):
    adapter = registry.get(adapter_id, "cpu")
    options = registry.system(adapter_id, {"beam_size": 1, **options}).options

    def go() -> float:
        results = [adapter.transcribe(u.audio, options) for u in clips]
        run.texts = [r.text for r in results]
        run.tokens = []
        return sum(u.audio.duration for u in clips)

    return go


def corpus_wer(references: list[str], hypotheses: list[str]) -> float:
    counts = [word_errors(normalize(r), normalize(h)) for r, h in zip(references, hypotheses)]
    return sum(c.errors for c in counts) / sum(c.reference_length for c in counts)


@contextlib.contextmanager
def labelled_generate(model):
    """Profiler labels for the encoder and the output projection inside transformers' `generate`."""
    import torch

    originals = {}
    for label, module in (("encoder", model.model.encoder), ("output_projection", model.proj_out)):
        originals[module] = module.forward

        def forward(*args, _forward=module.forward, _label=label, **kwargs):
            with torch.profiler.record_function(_label):
                return _forward(*args, **kwargs)

        module.forward = forward
    try:
        yield
    finally:
        for module, forward in originals.items():
            module.forward = forward


def profile_breakdown(lab, options: DecodingOptions, clip: Utterance, long_form: bool = False) -> dict:
    """Milliseconds per labelled stage and outside the aten kernels, for one clip under torch.profiler."""
    from torch.profiler import ProfilerActivity, profile

    labels = ("features", "encoder", "draft_encoder", "draft", "verify", "decoder", "generate", "output_projection")
    timer = ProfiledTimer()
    lab.prepare(options)
    generated = STRATEGIES[options.strategy].runner == "generate"
    guard = labelled_generate(lab.target(options).hf_model) if generated else contextlib.nullcontext()
    with guard, profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        if long_form:
            result = lab.decode_long(clip.audio.samples, options, timer)
        else:
            result = lab.decode([clip.audio.samples], options, timer)[0]
        wall = time.perf_counter() - start
    events = prof.key_averages()
    by_name = {e.key: e for e in events}
    kernels_us = sum(e.self_cpu_time_total for e in events if e.key.startswith(("aten::", "quantized::")))
    row = {f"{label}_ms": round(by_name[label].cpu_time_total / 1000, 1) for label in labels if label in by_name}
    if generated and "generate_ms" in row and "encoder_ms" in row:
        row["decoder_ms"] = round(row["generate_ms"] - row["encoder_ms"], 1)
    overhead_ms = max(0.0, wall * 1000 - kernels_us / 1000)
    steps = max(result.stats.target_steps, 1)
    row.update(wall_ms=round(wall * 1000, 1), kernels_ms=round(kernels_us / 1000, 1),
               overhead_ms=round(overhead_ms, 1), target_steps=result.stats.target_steps,
               tokens=len(result.tokens), overhead_per_target_step_ms=round(overhead_ms / steps, 2))
    return row


LONG_FORM_CONTENDERS = {BASELINE: DecodingOptions(strategy="greedy"), "lean greedy": DecodingOptions(strategy="lean"),
                        **{f"{name} (default options)": DecodingOptions(strategy=name) for name, spec in STRATEGIES.items()
                           if spec.runner == "drafting" and spec.lossless}}  # read from the table at run time
FASTER_WHISPER_BATCHED = "faster-whisper int8 batched+VAD (8)"


def load_long_form(registry, dev_speech: Path) -> list[Utterance]:
    """dev-speech concatenated into one recording (0.5 s between utterances), then the long-form set
    (shortest first, so `--limit` keeps the short ones)."""
    import numpy as np

    from studio.evaluation.longform import make_generated

    recordings = []
    if dev_speech.exists():
        parts = load_utterances(dev_speech)
        gap = np.zeros(8000, np.float32)
        samples = np.concatenate([x for u in parts for x in (u.audio.samples, gap)])
        recordings.append(Utterance("dev-speech-concatenated", Audio(samples, 16000), " ".join(u.text for u in parts)))
    return recordings + sorted(load_utterances(make_generated("longform", registry)), key=lambda u: u.audio.duration)


def transformers_long_form_agreement(lab, options: DecodingOptions, clips: list[Utterance], greedy: list) -> dict:
    """transformers' own long-form `generate` (return_timestamps=True) against the window loop's greedy tokens."""
    import difflib

    import torch

    target = lab.target(options)
    timestamp_begin = target.whisper.special["timestamp_begin"]
    identical, matched, total = 0, 0, 0
    for clip, ours in zip(clips, greedy):
        features = torch.from_numpy(lab.feature_extractor(clip.audio.samples, sampling_rate=16000, truncation=False,
                                                          padding="longest", return_tensors="np").input_features)
        out = target.hf_model.generate(input_features=features, return_timestamps=True, do_sample=False,
                                       max_new_tokens=options.max_new_tokens,
                                       **target.whisper.generate_kwargs(options.language))
        eot = target.whisper.special["eot"]
        sequences = out if isinstance(out, torch.Tensor) else out["sequences"]
        theirs = [t for t in sequences[0].tolist() if t < eot or t >= timestamp_begin]  # no prompt, end or padding
        mine = [t for t in ours if t < eot or t >= timestamp_begin]
        identical += theirs == mine
        matched += sum(b.size for b in difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks())
        total += max(len(mine), len(theirs))
    return {"recordings_identical": f"{identical}/{len(clips)}", "token_agreement": round(matched / total, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="base", choices=["base", "tiny.en"])
    parser.add_argument("--manifest", type=Path, default=DEV_SPEECH)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N utterances (0 = all)")
    parser.add_argument("--only", action="append", choices=list(CONTENDERS), metavar="NAME",
                        help="run only these strategies (repeatable; the baseline always runs)")
    parser.add_argument("--json", type=Path, help="also write rows and context here")
    parser.add_argument("--long-form", action="store_true",
                        help="the long-form set and dev-speech concatenated, by the sequential window loop")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")

    registry = build_registry()
    utterances = (load_long_form(registry, args.manifest) if args.long_form
                  else load_utterances(args.manifest))[: args.limit or None]
    lab = registry.get(f"torch-whisper-{args.target}", "cpu").decoding  # the lab with its first pass wired in
    layers = lab.variant(args.target, False).lean.num_layers
    vocab = lab.variant(args.target, False).lean.output.weight.shape[0]
    candidates = LONG_FORM_CONTENDERS if args.long_form else CONTENDERS
    strategies = {n: o for n, o in candidates.items()  # tiny.en has no draft model and only 4 decoder layers
                  if (o.strategy != "speculative" or args.target == "base") and o.draft_layers < layers
                  and (o.strategy not in ("medusa", "layer_skip") or drafters_path(args.target).exists())
                  and (not args.only or n in args.only or n == BASELINE)}
    fw_id = "whisper-base" if args.target == "base" else "whisper-tiny.en"
    fw_options = {FASTER_WHISPER: {}, **({FASTER_WHISPER_BATCHED: {"batched": True, "batch_size": 8}}
                                         if args.long_form else {})}
    runs = {name: Run() for name in [*strategies, *fw_options]}
    contenders = {name: torch_contender(lab, options, utterances, runs[name], args.long_form)
                  for name, options in strategies.items()}
    for name, options in fw_options.items():
        contenders[name] = faster_whisper_contender(registry, fw_id, utterances, runs[name], **options)
    warm = utterances[0].audio.samples[:30 * 16000]  # one window: first-call costs, not a whole recording
    for name, options in strategies.items():  # load-time work (quantised copies, draft models) and a warm-up
        lab.prepare(options)
        lab.decode([warm] * options.batch_size, options, StageTimer())
    for options in fw_options.values():
        faster_whisper_contender(registry, fw_id, [Utterance("warm-up", Audio(warm, 16000), "")], Run(), **options)()

    load_before = context()["load_average_1_5_15"]
    timings = race(contenders, repeats=args.repeats, warmup=0)
    references = [u.text for u in utterances]
    baseline_seconds = timings[BASELINE].seconds
    baseline_tokens = runs[BASELINE].tokens
    rows = []
    for name, timing in timings.items():
        run, options = runs[name], strategies.get(name)
        same = sum(a == b for a, b in zip(run.tokens, baseline_tokens)) if run.tokens else None
        rows.append({
            "system": name,
            "lossless": "yes" if options and options.lossless else "no",
            "same_tokens": f"{same}/{len(utterances)}" if same is not None else "n/a",
            "wall_s": timing.seconds,
            "rtfx": timing.audio_per_second,
            "speedup": baseline_seconds / timing.seconds,
            "acceptance": round(run.accepted / run.drafted, 3) if run.drafted else "-",
            "tokens_per_target_step": round(sum(map(len, run.tokens)) / run.target_steps, 2)
            if run.target_steps else "-",
            "wer_pct": round(100 * corpus_wer(references, run.texts), 2),
            "wer_change_pct": round(100 * (corpus_wer(references, run.texts) - corpus_wer(references,
                                                                                         runs[BASELINE].texts)), 2),
            # int8_exact: share of the vocabulary rescored in fp32 per scored position (drafts + target steps)
            "rescored_pct": round(100 * run.rescored / ((run.drafted + run.target_steps) * vocab), 3)
            if run.rescored else "-",
            "kv_cache_kb_per_clip": round(run.cache_bytes / len(utterances) / 1024) if run.cache_bytes else "-",
            "stages_s": {k: round(v, 2) for k, v in run.stage_seconds.items()},
        })
    meta = context()
    meta.update(load_average_before_race=load_before, target=f"whisper-{args.target}", utterances=len(utterances),
                audio_seconds=round(sum(u.audio.duration for u in utterances), 2), repeats=args.repeats,
                source=str(args.manifest) if args.manifest.exists() else "bundled examples")
    if args.long_form:
        meta["transformers_long_form_generate_vs_window_loop_greedy"] = transformers_long_form_agreement(
            lab, strategies[BASELINE], utterances, baseline_tokens)
    print_report(f"Decoding strategies, Whisper {args.target}, {len(utterances)} "
                 f"{'long-form recordings' if args.long_form else 'utterances'}", rows, meta)

    clip = (min if args.long_form else max)(utterances, key=lambda u: u.audio.duration)  # long-form: the shortest
    breakdown = [{"system": name, **profile_breakdown(lab, options, clip, args.long_form)}
                 for name, options in strategies.items() if options.batch_size == 1]
    columns = sorted({k for row in breakdown for k in row} - {"system"})
    breakdown = [{"system": row["system"], **{c: row.get(c, "-") for c in columns}} for row in breakdown]
    print_report(f"Where the time goes (torch.profiler, one clip: {clip.key}, {clip.audio.duration:.1f} s)",
                 breakdown, {"load_average_1_5_15": context()["load_average_1_5_15"]})
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "breakdown": breakdown, "context": meta}, indent=1,
                                        default=str))


if __name__ == "__main__":
    main()
