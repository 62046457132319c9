"""`python -m evals CONFIG.yaml`: the evaluation CLI (same as `studio eval`). Example configs in evals/configs/."""
