"""The evaluation engine: datasets and configs in, per-utterance rows, summary and plots out.

    registry = build_registry()              # studio.bootstrap: the models on offer
    config = load_config("evals/configs/demo_asr.yaml", registry)
    result = run_evaluation(config, registry)  # resumes from output/results.jsonl
    result.summary                           # one line per dataset and system
"""

from studio.evaluation.config import DatasetConfig, EvalConfig, load_config
from studio.evaluation.datasets import Dataset, Prompt, Utterance, load_dataset
from studio.evaluation.results import ResultRow
from studio.evaluation.runner import RunResult, load_datasets, run_evaluation

__all__ = ["Dataset", "DatasetConfig", "EvalConfig", "Prompt", "ResultRow", "RunResult", "Utterance", "load_config",
           "load_dataset", "load_datasets", "run_evaluation"]
