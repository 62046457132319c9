"""The Models panel: allow-listed models with their state, load/unload, memory; errors become gr.Error."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.bootstrap import build_registry
from studio.ui import models
from tests.adapters.tiny_hf_models import tiny_model_dirs, write_config


@pytest.fixture
def zoo_config(tmp_path_factory, tmp_path):
    tiny = tiny_model_dirs(tmp_path_factory)
    return build_registry(write_config(tmp_path / "studio.yaml", [
        {"id": "tiny-ctc", "type": "hf-ctc", "path": str(tiny["ctc"]), "label": "Tiny CTC"},
        {"id": "gone", "type": "hf-vits", "path": "missing"},
        {"id": "typo", "type": "hf-vitz", "path": "missing"},
    ], bundled=False))


def rows_by_id(rows):
    return {row[0]: dict(zip(models.COLUMNS, row)) for row in rows}


def test_panel_builds_and_lists_the_allow_list_with_reasons(zoo_config):
    with gr.Blocks():
        models.build(zoo_config)
    rows = rows_by_id(models.status_rows(zoo_config))
    assert set(rows) == {"tiny-ctc", "gone", "typo"}
    assert rows["tiny-ctc"]["state"] == "unloaded"
    assert rows["gone"]["state"] == "unavailable" and "does not exist" in rows["gone"]["reason or note"]
    assert "unknown adapter type" in rows["typo"]["reason or note"]
    assert [value for _, value in models.model_choices(zoo_config)] == ["tiny-ctc", "gone"]  # broken entries cannot be chosen


def test_load_and_unload_update_state_and_memory(zoo_config):
    rows, memory, _ = models.load_model(zoo_config, "tiny-ctc")
    loaded = rows_by_id(rows)["tiny-ctc"]
    assert loaded["state"] == "loaded" and loaded["device"] == "cpu float32" and loaded["weights MiB"] > 0
    assert "process RSS" in memory
    rows, _, _ = models.unload_model(zoo_config, "tiny-ctc")
    assert rows_by_id(rows)["tiny-ctc"]["state"] == "unloaded"


def test_load_errors_are_shown_not_raised_as_tracebacks(zoo_config):
    with pytest.raises(gr.Error, match="gone is not available here"):
        models.load_model(zoo_config, "gone")
    with pytest.raises(gr.Error, match="unknown adapter 'typo'"):
        models.load_model(zoo_config, "typo")
    with pytest.raises(gr.Error, match="Choose a model"):
        models.unload_model(zoo_config, None)
