"""The run on the generated demo set with Whisper tiny.en (a few short utterances, seconds each)."""

import json
import threading

import pytest

from studio.evaluation import load_config, run_evaluation
from studio.evaluation.results import ResultsLog
from tests.evaluation.conftest import DEMO_SET, write_config


def asr_config(registry, tmp_path, manifest=DEMO_SET / "manifest.jsonl", systems="[{adapter: whisper-tiny.en, options: {beam_size: 1}}]",
               extra=""):
    settings = {"warmup": "1", "batch_seconds": "240", "max_batch_size": "4"}
    settings.update(line.split(": ", 1) for line in extra.splitlines() if line)  # a test's own lines win
    body = (f"datasets: [{{path: {manifest}, name: demo}}]\nsystems: {systems}\n"
            + "".join(f"{key}: {value}\n" for key, value in settings.items())
            + f"device: cpu\noutput: {tmp_path / 'out'}\n")
    return load_config(write_config(tmp_path, body), registry)


def word_edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words, written out here as an independent check of jiwer."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


@pytest.mark.models
def test_wer_matches_a_hand_check(tmp_path, registry):
    from studio.metrics.wer import normalize

    result = run_evaluation(asr_config(registry, tmp_path, extra="limit: 5\n"), registry)
    rows = ResultsLog(result.results_path).read()
    assert len(rows) == 5 and all(r.error is None for r in rows)
    errors = words = 0
    for row in rows:
        ref, hyp = normalize(row.text).split(), normalize(row.pred_text).split()
        distance = word_edit_distance(ref, hyp)
        assert row.metrics["wer"] == pytest.approx(distance / len(ref))
        assert row.counts["wer"] == {"errors": distance, "reference_length": len(ref)}
        errors, words = errors + distance, words + len(ref)
    line = result.summary.iloc[0]
    assert line["corpus_wer"] == pytest.approx(errors / words)
    assert line["mean_utterance_wer"] == pytest.approx(sum(r.metrics["wer"] for r in rows) / len(rows))
    assert line["rtfx"] == pytest.approx(sum(r.duration for r in rows) / sum(r.time for r in rows))
    assert 0.8 < line["padding_fraction"] < 1.0  # 2-3 s clips in Whisper's 30 s window
    # the files of a run
    for name in ("results.jsonl", "summary.csv", "summary.parquet", "run.json", "plots.html"):
        assert (result.output / name).is_file(), name
    run = json.loads((result.output / "run.json").read_text())
    assert run["config"]["systems"][0]["options"]["beam_size"] == 1 and "cpu" in run["system"]


def test_hand_checked_example_through_the_metric(registry):
    from studio.engine import score
    from studio.metrics import MetricInput

    # "12" vs "twelve" is equal after normalisation; "market" -> "markets" is 1 substitution of 10 words
    scored = score(["wer"], MetricInput(hypothesis="She bought three apples and twelve oranges at the markets.",
                                        reference="She bought 3 apples and 12 oranges at the market."))
    assert scored.value("wer") == pytest.approx(1 / 10)


@pytest.mark.models
def test_resume_after_a_stop_gives_the_same_rows_without_duplicates(tmp_path, registry):
    config = asr_config(registry, tmp_path, extra="limit: 6\n")
    first = run_evaluation(config, registry, max_new_rows=2)
    assert first.new_rows == 2
    cancel = threading.Event()
    second = run_evaluation(config, registry, progress=lambda done, total, msg: cancel.set() if done >= 4 else None,
                            cancel=cancel)
    assert second.cancelled and 1 <= second.new_rows <= 4
    third = run_evaluation(config, registry)
    rows = ResultsLog(third.results_path).read()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == 6 and third.new_rows == 6 - first.new_rows - second.new_rows
    fresh = run_evaluation(config.with_overrides(output=tmp_path / "fresh"), registry)
    fresh_rows = {r.key: r.pred_text for r in ResultsLog(fresh.results_path).read()}
    assert {r.key: r.pred_text for r in rows} == fresh_rows
    assert run_evaluation(config, registry).new_rows == 0  # nothing left to do


def test_torn_last_line_is_dropped_and_redone(tmp_path, echo_registry):
    registry = echo_registry
    config = asr_config(registry, tmp_path, systems="[test-echo]", extra="limit: 2\n")
    run_evaluation(config, registry)
    log = ResultsLog(config.output / "results.jsonl")
    lines = log.path.read_text().splitlines()
    log.path.write_text(lines[0] + "\n" + lines[1][:40])  # killed mid-write
    result = run_evaluation(config, registry)
    assert result.new_rows == 1 and len(log.read()) == 2


@pytest.mark.models
def test_batched_and_sequential_runs_predict_the_same(tmp_path, registry):
    systems = "[{adapter: whisper-tiny.en, options: {beam_size: 5}}]"
    batched = run_evaluation(asr_config(registry, tmp_path, systems=systems, extra="limit: 6\nwarmup: 0\n"), registry)
    sequential_config = asr_config(registry, tmp_path, systems=systems, extra="limit: 6\nwarmup: 0\n").with_overrides(
        max_batch_size=1, output=tmp_path / "sequential")
    sequential = run_evaluation(sequential_config, registry)
    batched_rows = ResultsLog(batched.results_path).read()
    assert max(r.batch_size for r in batched_rows) == 4
    as_text = lambda result: {r.key: r.pred_text for r in ResultsLog(result.results_path).read()}
    assert as_text(batched) == as_text(sequential)


@pytest.mark.models
def test_a_bad_utterance_is_reported_and_skipped(tmp_path, demo_copy, registry):
    (demo_copy / "wav" / "demo-03.wav").write_bytes(b"RIFF not really a wave file")
    result = run_evaluation(asr_config(registry, tmp_path, manifest=demo_copy / "manifest.jsonl",
                                       systems="[pocketsphinx]", extra="limit: 4\n"), registry)
    rows = {r.key: r for r in ResultsLog(result.results_path).read()}
    assert "cannot be read as audio" in rows["wav/demo-03"].error
    assert sum(r.error is None for r in rows.values()) == 3
    line = result.summary.iloc[0]
    assert line["failed"] == 1 and line["utterances"] == 3 and result.failed == 1


@pytest.mark.models
def test_tts_run_with_judge_similarity_and_dnsmos(tmp_path, registry):
    body = (f"datasets: [{DEMO_SET / 'tts_prompts.jsonl'}]\n"
            "systems: [{adapter: piper-joe, options: {noise_scale: 0, noise_w_scale: 0}}]\n"
            "judge: {adapter: whisper-tiny.en, options: {beam_size: 1}}\n"
            f"limit: 2\nwarmup: 0\ndevice: cpu\noutput: {tmp_path / 'tts'}\n")
    result = run_evaluation(load_config(write_config(tmp_path, body), registry), registry)
    rows = ResultsLog(result.results_path).read()
    assert [r.reference_audio is not None for r in rows] == [True, True]  # given voice, then own first utterance
    assert rows[1].reference_audio.endswith("prompt-01.wav")
    for row in rows:
        assert set(row.metrics) >= {"wer", "speaker_similarity", "dnsmos", "rtf", "ttfa"}
        assert row.pred_text and (tmp_path / "tts" / "audio").exists()
    line = result.summary.iloc[0]
    assert line["roundtrip_corpus_wer"] < 0.2 and line["speaker_similarity_mean"] > 0.8 and line["rtf"] > 0
    assert (result.output / "plots.html").read_text().count("RTF (log)") >= 2


def test_tts_round_trip_wer_needs_a_judge(tmp_path, registry):
    from studio.errors import ConfigError

    body = f"datasets: [{DEMO_SET / 'tts_prompts.jsonl'}]\nsystems: [espeak-ng]\noutput: {tmp_path}\n"
    with pytest.raises(ConfigError, match="needs a judge"):
        run_evaluation(load_config(write_config(tmp_path, body), registry), registry)


def test_a_batch_that_fails_is_split_and_only_the_bad_utterance_is_skipped(tmp_path, echo_registry):
    registry = echo_registry
    config = asr_config(registry, tmp_path, systems="[test-echo]", extra="max_batch_size: 10\nbatch_seconds: 100\n")
    result = run_evaluation(config, registry)
    rows = {r.key: r for r in ResultsLog(result.results_path).read()}
    assert len(rows) == 10
    assert rows["wav/demo-10"].error == "too short for the echo adapter"  # the 0.6 s "Yes."
    assert rows["wav/demo-01"].pred_text == "the quick brown fox" and rows["wav/demo-01"].metrics["wer"] == pytest.approx(5 / 9)
    assert result.summary.iloc[0]["failed"] == 1
    assert {r.batch_size for r in rows.values()} == {1}  # the one batch of 10 failed and was retried clip by clip


@pytest.mark.models
def test_an_adapter_that_cannot_batch_runs_one_at_a_time(tmp_path, registry):
    result = run_evaluation(asr_config(registry, tmp_path, systems="[pocketsphinx]", extra="limit: 3\nmax_batch_size: 8\n"), registry)
    rows = ResultsLog(result.results_path).read()
    assert {r.batch_size for r in rows} == {1}
    assert result.summary.iloc[0]["padding_fraction"] == 0.0
    assert all(r.latency == r.time for r in rows)


def test_a_second_writer_to_the_same_results_folder_is_refused(tmp_path, registry):
    from studio.errors import ConfigError
    from studio.evaluation import runner

    config = asr_config(registry, tmp_path)
    lock = runner._writers.setdefault((tmp_path / "out").resolve(), threading.Lock())
    lock.acquire()  # as if a run were writing there now
    try:
        with pytest.raises(ConfigError, match="already writing"):
            runner.run_evaluation(config, registry)
    finally:
        lock.release()


@pytest.mark.models
def test_a_drafting_lab_system_is_never_grouped_into_batches(tmp_path, registry):
    """Early exit decodes one clip at a time: each row has batch size 1 and its own latency."""
    systems = "[{adapter: torch-whisper-tiny.en, options: {strategy: early_exit, draft_layers: 2}}]"
    result = run_evaluation(asr_config(registry, tmp_path, systems=systems,
                                       extra="limit: 4\nwarmup: 0\nmax_batch_size: 4\n"), registry)
    rows = ResultsLog(result.results_path).read()
    assert len(rows) == 4 and all(r.error is None for r in rows)
    assert {r.batch_size for r in rows} == {1}
    assert all(r.latency == r.time for r in rows)
    assert len({r.latency for r in rows}) == 4  # four clips, four timings


@pytest.mark.models
def test_a_batching_lab_system_is_grouped_up_to_its_batch_size(tmp_path, registry):
    systems = "[{adapter: torch-whisper-tiny.en, options: {strategy: lean, batch_size: 2}}]"
    result = run_evaluation(asr_config(registry, tmp_path, systems=systems,
                                       extra="limit: 4\nwarmup: 0\nmax_batch_size: 4\n"), registry)
    assert {r.batch_size for r in ResultsLog(result.results_path).read()} == {2}


@pytest.mark.models
def test_a_run_releases_each_model_it_loaded_once_no_later_system_needs_it(tmp_path):
    """Resident models slowed later systems' timings (issue 14): a model the run loaded is unloaded as soon as
    no later system needs it; one loaded before the run (by hand, in the Models tab) stays loaded."""
    from studio.bootstrap import build_registry

    registry = build_registry()
    systems = ("[{adapter: whisper-tiny.en, options: {beam_size: 1}, name: tiny b1}, "
               "{adapter: whisper-tiny.en, options: {beam_size: 5}, name: tiny b5}, {adapter: pocketsphinx, name: ps}]")
    config = asr_config(registry, tmp_path, systems=systems, extra="limit: 1\n")
    resident: dict[str, set[str]] = {}  # system -> the models loaded while its row was written

    def progress(done, total, message):
        resident[message.split(" · ")[0]] = {a.info.id for a in registry.loaded()}

    run_evaluation(config, registry, progress)
    assert resident == {"tiny b1": {"whisper-tiny.en"}, "tiny b5": {"whisper-tiny.en"}, "ps": {"pocketsphinx"}}
    assert registry.loaded() == []

    registry.load("whisper-tiny.en")  # by hand, before the run
    run_evaluation(config.with_overrides(output=tmp_path / "again"), registry, progress)
    assert resident["ps"] == {"whisper-tiny.en", "pocketsphinx"}
    assert [a.info.id for a in registry.loaded()] == ["whisper-tiny.en"]
