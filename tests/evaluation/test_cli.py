"""`studio eval` and `python -m evals`: one readable line and a non-zero exit on bad input."""

import subprocess
import sys
from pathlib import Path

import pytest

from evals.__main__ import main as evals_main
from studio.cli import main as studio_main
from tests.evaluation.conftest import DEMO_SET, write_config, write_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", [lambda argv: studio_main(["eval", *argv]), evals_main])
def test_bad_manifest_line_exits_non_zero_with_one_line(tmp_path, capsys, entry):
    manifest = write_manifest(tmp_path, ["{broken"])
    config = write_config(tmp_path, f"datasets: [{manifest}]\nsystems: [pocketsphinx]\noutput: {tmp_path / 'o'}\n")
    assert entry([str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{manifest}:1: not a JSON object" in err


def test_unknown_adapter_names_config_line(tmp_path, capsys):
    config = write_config(tmp_path, "datasets: [x.jsonl]\nsystems:\n  - adapter: wav2vec9\n")
    assert studio_main(["eval", str(config)]) == 2
    assert f"{config}:3: unknown adapter 'wav2vec9'" in capsys.readouterr().err


def test_missing_config_file(capsys):
    assert evals_main(["/no/such/config.yaml"]) == 2
    assert capsys.readouterr().err.strip() == "evals: /no/such/config.yaml: no such config file"


@pytest.mark.models
def test_python_m_evals_runs_the_demo_config(tmp_path):
    out = subprocess.run([sys.executable, "-m", "evals", "evals/configs/demo_asr.yaml", "--limit", "2",
                          "--output", str(tmp_path / "demo"), "--device", "cpu"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "corpus_wer" in out.stdout and "pocketsphinx" in out.stdout
    assert (tmp_path / "demo" / "plots.html").is_file()


def test_an_unreachable_cluster_is_one_readable_line(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()  # else the run would use that cluster
    config = write_config(tmp_path, f"datasets: [{DEMO_SET / 'manifest.jsonl'}]\nsystems: [pocketsphinx]\n"
                                    f"output: {tmp_path / 'o'}\n")
    assert studio_main(["eval", str(config), "--ray", "bogus://nowhere"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot reach the Ray cluster at 'bogus://nowhere'" in err
