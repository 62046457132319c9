"""results.jsonl: typed rows in, the same rows out; lines that are not rows name the file and line."""

import json

import pytest

from studio.errors import ConfigError
from studio.evaluation.results import ROW_FIELDS, ResultRow, ResultsLog


def test_rows_round_trip_field_for_field(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    row = ResultRow(key="u1", dataset="demo", task="asr", system="tiny", system_id="whisper-tiny.en",
                    kind="autoregressive", metrics={"wer": 0.1}, counts={"wer": {"errors": 1, "reference_length": 10}})
    log.append(row)
    assert log.read() == [row]
    assert list(json.loads(log.path.read_text())) == list(ROW_FIELDS)


def test_a_row_from_an_older_version_reads_with_defaults(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"key": "u1", "dataset": "d", "task": "asr", "system": "s", "system_id": "x",
                                "retired_field": 1}) + "\n")
    (row,) = ResultsLog(path).read()
    assert row.kind == "" and row.batch_size == 1


@pytest.mark.parametrize("line", ["[1, 2]", "7", '{"key": "u1"}'])
def test_a_line_that_is_not_a_row_names_file_and_line(tmp_path, line):
    path = tmp_path / "results.jsonl"
    path.write_text(line + "\n\n" + json.dumps({"key": "u2"}) + "\n")
    with pytest.raises(ConfigError, match=r"results.jsonl:1: not a results row"):
        ResultsLog(path).read()
