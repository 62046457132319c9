"""What every model states about itself: `studio models --json`, the Models tab, and the plots' kind markers."""

import json
from pathlib import Path

import pandas as pd


from studio.types import KINDS
from studio.cli import main

FIELDS = {"id", "task", "family", "decoding", "parameters", "size_mb", "licence", "available", "reason"}


def test_models_json_prints_one_object_per_model(capsys, registry):
    main(["models", "--json"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == registry.ids()
    assert all(set(r) == FIELDS for r in records)
    by_id = {r["id"]: r for r in records}
    assert by_id["whisper-tiny.en"]["decoding"] == "autoregressive"
    assert by_id["moonshine-tiny-en"]["decoding"] == "autoregressive"
    assert by_id["hama"]["decoding"] == "non-autoregressive"
    assert by_id["kokoro-82m"]["decoding"] == "non-autoregressive" and by_id["kokoro-82m"]["parameters"] == 82_000_000
    assert by_id["pocketsphinx"]["decoding"] == "HMM" and by_id["espeak-ng"]["decoding"] == "rules"
    assert all(r["available"] == (r["reason"] is None) for r in records)


def test_every_bundled_model_states_kind_size_and_licence(registry):
    for adapter_id in registry.ids():
        info = registry.info(adapter_id)
        assert info.kind in KINDS, adapter_id
        assert info.size_mb and info.size_mb > 0 and info.licence, adapter_id


def test_models_tab_shows_the_same_columns(registry):
    from studio.ui import models

    rows = {row[0]: dict(zip(models.COLUMNS, row)) for row in models.status_rows(registry)}
    assert {"family", "decoding", "parameters", "size MB", "licence"} <= set(models.COLUMNS)
    assert rows["hama"]["decoding"] == "non-autoregressive" and rows["hama"]["licence"] == "Apache-2.0"
    assert rows["whisper-base"]["parameters"] == "74.0 M" and rows["whisper-base"]["size MB"] == 145.2


def test_speed_quality_plot_colours_each_decoding_kind():
    from studio.evaluation.plots import KIND_COLOURS, KIND_SYMBOLS, figures
    from studio.evaluation.results import ResultRow

    systems = [("tiny", "whisper-tiny.en", 10.0, 0.1), ("hama", "hama", 20.0, 0.3), ("ps", "pocketsphinx", 5.0, 0.3)]
    summary = pd.DataFrame([{"dataset": "d", "system": s, "system_id": i, "options": "", "task": "asr",
                             "utterances": 1, "failed": 0, "rtfx": x, "corpus_wer": y} for s, i, x, y in systems])
    kinds = {"whisper-tiny.en": "autoregressive", "hama": "non-autoregressive", "pocketsphinx": "HMM"}
    rows = [ResultRow(key="u", dataset="d", task="asr", system=s, system_id=i, kind=kinds[i], duration=1.0,
                      latency=0.1, metrics={"wer": y}) for s, i, _, y in systems]
    summary["kind"] = [kinds[i] for _, i, _, _ in systems]
    made = figures(rows, summary)
    points = {t.name: t.marker.color for t in made["speed_quality"].data if t.mode == "markers+text"}
    assert points == {"d: autoregressive": KIND_COLOURS["autoregressive"],
                      "d: non-autoregressive": KIND_COLOURS["non-autoregressive"], "d: HMM": KIND_COLOURS["HMM"]}
    latency = {t.name: t.marker.symbol for t in made["latency_vs_duration"].data}
    assert latency["hama (non-autoregressive)"] == KIND_SYMBOLS["non-autoregressive"]


def test_families_configs_are_offered_and_run_every_family(registry):
    from studio.evaluation.catalog import config_names, shipped_config

    assert {"families_asr", "families_tts"} <= set(config_names())
    kinds = {}
    for name in ("families_asr", "families_tts"):
        config = shipped_config(name, registry)
        assert config.datasets[0].path.resolve().is_relative_to(Path(__file__).parents[1] / "assets" / "demo_set")
        kinds[name] = {registry.info(s.adapter_id).kind for s in config.systems}
        assert {s.adapter_id for s in config.systems} >= (
            {"whisper-tiny.en", "moonshine-tiny-en", "hama", "pocketsphinx"} if name == "families_asr"
            else {"piper-joe", "hibari-heart", "kokoro-82m", "espeak-ng"})
    assert kinds["families_asr"] == {"autoregressive", "non-autoregressive", "HMM"}
    assert kinds["families_tts"] == {"non-autoregressive", "rules"}
    assert "distillmos" in shipped_config("families_tts", registry).metrics
