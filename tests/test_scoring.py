"""One scoring rule for synthesis, in the Synthesize tab and in evaluations: a metric that cannot score a
sample is skipped with its reason, and everything else about the result is kept and scored the same."""

import pytest

from studio.compare import synthesize_each
from studio.errors import StudioError
from studio.evaluation import load_config, run_evaluation
from studio.evaluation.results import ResultsLog
from studio.metrics.dnsmos import DNSMOS
from tests.evaluation.conftest import write_config

pytestmark = pytest.mark.models

PROMPT = "Please call me back before noon tomorrow."


def test_a_failing_metric_is_skipped_alike_in_the_tab_and_in_an_evaluation(tmp_path, monkeypatch, registry):
    def refuse(self, sample):
        raise StudioError("DNSMOS cannot score this clip (test)")

    monkeypatch.setattr(DNSMOS, "compute", refuse)
    piper = registry.system("piper-joe", "noise_scale=0 noise_w_scale=0")
    judge = registry.system("whisper-tiny.en", "beam_size=1")
    (outcome,) = synthesize_each(registry, [piper], PROMPT, judge)
    assert outcome.error is None and outcome.synthesis is not None  # the system's result is kept

    (tmp_path / "prompts.txt").write_text(PROMPT + "\n")
    body = (f"datasets: [{tmp_path / 'prompts.txt'}]\n"
            "systems: [{adapter: piper-joe, options: {noise_scale: 0, noise_w_scale: 0}}]\n"
            "judge: {adapter: whisper-tiny.en, options: {beam_size: 1}}\n"
            f"metrics: [wer, dnsmos, speaker_similarity, latency]\nwarmup: 0\ndevice: cpu\noutput: {tmp_path / 'out'}\n")
    result = run_evaluation(load_config(write_config(tmp_path, body), registry), registry)
    (row,) = ResultsLog(result.results_path).read()
    assert row.error is None

    tab = outcome.scored
    assert tab.skipped == row.skipped
    assert tab.skipped["dnsmos"] == "DNSMOS cannot score this clip (test)"
    assert "speaker_similarity" in tab.skipped  # no voice to compare with in either
    assert tab.judge_transcription.text == row.pred_text
    assert tab.value("wer") == row.metrics["wer"] and tab.error_counts() == row.counts
    timing_free = {k for k in row.metrics if k.split(".")[0] not in ("latency", "rtf", "ttfa", "stage")}
    assert "wer" in timing_free
    assert set(tab.values()) == set(row.metrics)
    assert {k: tab.value(k) for k in timing_free} == {k: row.metrics[k] for k in timing_free}
