"""A folder that is not a finished load test's gets one clear error, naming the file."""

import json

import pytest

from loadtests.reading import LoadTestError, read


def test_a_folder_that_is_not_a_load_tests_is_named_with_what_is_missing(tmp_path):
    with pytest.raises(LoadTestError, match="no such folder"):
        read(tmp_path / "nowhere")
    with pytest.raises(LoadTestError, match=r"no truth\.json; expected the --out folder"):
        read(tmp_path)
    (tmp_path / "truth.json").write_text("{not json")
    with pytest.raises(LoadTestError, match="is not what pollsim loadtest writes"):
        read(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"jobs": []}))
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "jobs.csv").write_text("user,strategy,job_id,polls,latency_s,gave_up\n")
    with pytest.raises(LoadTestError, match=r"truth\.json: not the server.s ground truth"):
        read(tmp_path)
