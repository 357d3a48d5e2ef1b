"""A bug surfaces as one line plus a log file holding the traceback, never in the data."""

from __future__ import annotations

import pytest

from nmrilt import cli
from nmrilt.batch import describe_error


def _boom(*_args, **_kwargs):
    raise RuntimeError("simulated bug")


def test_internal_error_is_one_line_and_traceback_goes_to_state_log(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("nmrilt.pipeline.run", _boom)
    data = tmp_path / "data"
    data.mkdir()
    code = cli.main(["-q", "run", str(data)])
    err = capsys.readouterr().err.strip()
    assert code == cli.EXIT_BUG
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    logs = list((tmp_path / "state" / "nmrilt").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "Traceback" in text and "simulated bug" in text
    assert list(data.iterdir()) == []


def test_crash_log_falls_back_to_temp_dir_when_state_dir_is_unwritable(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    line = describe_error(RuntimeError("boom"))
    assert "internal error" in line and str(tmp_path / "tmp") in line


def test_nmrilt_errors_are_described_without_a_log(tmp_path, monkeypatch):
    from nmrilt.errors import ReadError

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert describe_error(ReadError("x: bad")) == "ReadError: x: bad"
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("argv", [["-q", "info", "/nonexistent/exp"]])
def test_input_errors_keep_exit_2(argv, capsys):
    assert cli.main(argv) == cli.EXIT_INPUT
