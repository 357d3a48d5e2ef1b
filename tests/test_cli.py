"""The nmrilt command end to end: run, batch, watch, plot, info, exit codes.

batch and watch run on copies of the example datasets including a corrupted folder; every
raw file is checksummed before and after.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import copy_example, shared_dataset
from nmrilt.readers import expected_data_size
from pipeline_helpers import tree_digest

from nmrilt.cli import main
from nmrilt.output.files import is_nmrilt_result
from nmrilt.watch import STATE_NAME

SMALL = ("bruker_t1ir_pseudo2d", "bruker_t2cpmg_pseudo2d", "varian_t1_arrayed.fid")
FAST = ["--formats", "png", "--set", 'shift_mode="sum"', "--set", "max_iter=30"]


@pytest.fixture
def tree(tmp_path):
    """A data tree: user/<name>/ for the small examples, plus a corrupted folder."""
    root = tmp_path / "data"
    for name in SMALL:
        copy_example(name, root / "user" / name)
    bad = copy_example("bruker_t1ir_pseudo2d", root / "user" / "corrupt" / "7")
    (bad / "vdlist").unlink()                      # the delays the reader needs are gone
    (bad / "pulseprogram").write_text("; nothing here\n")
    (bad / "acqus").write_text((bad / "acqus").read_text().replace("<t1ir>", "<mystery>"))
    return root


def _results(root: Path) -> list[str]:
    return sorted(str(p.parent.parent.relative_to(root)) for p in root.rglob("nmrilt/result.h5"))


def test_run_exit_codes_and_output(tmp_path, capsys):
    exp = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "exp")
    assert main(["run", str(exp), *FAST]) == 0
    assert "results in" in capsys.readouterr().out
    assert (exp / "nmrilt" / "map.png").is_file()
    assert main(["-q", "run", str(exp), *FAST]) == 3          # exists, no --force
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["-q", "run", str(exp), "--force", *FAST]) == 0


def test_input_errors_exit_2_with_one_line(tmp_path, capsys):
    assert main(["-q", "run", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nmrilt: error:") and "Traceback" not in err
    exp = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "exp")
    assert main(["-q", "run", str(exp), "--set", "shift_mode=bogus"]) == 2
    assert "shift_mode" in capsys.readouterr().err
    assert main(["-q", "run", str(exp), "--set", "nonsense"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    assert exc.value.code == 2


def test_batch_processes_all_good_ones_despite_a_corrupt_one(tree, capsys):
    before = tree_digest(tree)
    assert main(["batch", str(tree), *FAST]) == 1
    captured = capsys.readouterr()
    assert _results(tree) == sorted(f"user/{n}" for n in SMALL)
    for name in SMALL:
        out = tree / "user" / name / "nmrilt"
        assert {p.name for p in out.iterdir()} == {"result.h5", "peaks.csv", "report.txt",
                                                   "map.csv", "map.png", ".nmrilt-result.json",
                                                   "crosscheck.csv", "diagnostics.png"}
        assert all(p.stat().st_size > 0 for p in out.iterdir())
    assert "FAILED" in captured.err and "corrupt" in captured.err
    assert "3 done, 0 skipped" in captured.out + captured.err
    assert not (tree / "user" / "corrupt" / "7" / "nmrilt").exists()
    assert tree_digest(tree) == before, "batch changed a raw file"
    # second batch: the finished ones are skipped, the corrupt one fails again
    stamps = {p: p.stat().st_mtime_ns for p in tree.rglob("result.h5")}
    assert main(["batch", str(tree), *FAST]) == 1
    assert "0 done, 3 skipped" in capsys.readouterr().err
    assert stamps == {p: p.stat().st_mtime_ns for p in tree.rglob("result.h5")}


def test_batch_with_out_mirrors_the_tree(tree, tmp_path):
    out = tmp_path / "results"
    assert main(["-q", "batch", str(tree), "--out", str(out), *FAST]) == 1
    assert (out / "user" / "bruker_t1ir_pseudo2d" / "result.h5").is_file()
    assert not list(tree.rglob("result.h5"))


def test_watch_processes_finished_acquisitions_once_and_survives_bad_data(tree, capsys):
    # an acquisition still running: the ser holds only part of what the TDs promise
    running = tree / "user" / "running"
    copy_example("bruker_t2cpmg_pseudo2d", running)
    full_ser = (running / "ser").read_bytes()
    assert expected_data_size(running) == len(full_ser)
    (running / "ser").write_bytes(full_ser[: len(full_ser) // 2])
    before = tree_digest(tree)

    args = ["watch", str(tree), "--once", "--interval", "0", *FAST]
    assert main(args) == 1                                   # the corrupt one failed
    out = capsys.readouterr()
    assert _results(tree) == sorted(f"user/{n}" for n in SMALL)
    assert "FAILED" in out.err and "3 processed, 1 failed" in out.out
    state = json.loads((tree / STATE_NAME).read_text())
    assert state["experiments"]["user/corrupt/7"]["status"] == "failed"
    assert tree_digest(tree) == before, "watch changed a raw file"

    # restart: nothing is redone, the failure is not retried, the running one still waits
    stamps = {p: p.stat().st_mtime_ns for p in tree.rglob("result.h5")}
    assert main(args) == 0
    assert "0 processed, 0 failed" in capsys.readouterr().out
    assert stamps == {p: p.stat().st_mtime_ns for p in tree.rglob("result.h5")}

    # the acquisition finishes: the next watch processes it
    (running / "ser").write_bytes(full_ser)
    assert main(args) == 0
    assert "1 processed, 0 failed" in capsys.readouterr().out
    assert (running / "nmrilt" / "result.h5").is_file()


def test_plot_and_info_commands(tmp_path, capsys):
    exp = copy_example("bruker_t1ir_pseudo2d", tmp_path / "exp")
    assert main(["-q", "run", str(exp), *FAST]) == 0
    figs = tmp_path / "figs"
    assert main(["plot", str(exp / "nmrilt" / "result.h5"), "--out", str(figs),
                 "--formats", "svg,pdf", "--width-mm", "85", "--font-size", "7"]) == 0
    assert sorted(p.name for p in figs.iterdir()) == ["map.pdf", "map.svg"]
    # beside the result: own names, map.* of the run untouched, the folder still nmrilt's
    res = exp / "nmrilt"
    before = (res / "map.png").read_bytes()
    assert main(["-q", "plot", str(res / "result.h5"), "--formats", "png", "--width-mm", "85",
                 "--no-title", "--no-residuals", "--tau-axis", "crop"]) == 0
    assert (res / "map_85mm.png").is_file() and (res / "map.png").read_bytes() == before
    assert is_nmrilt_result(res)
    assert main(["-q", "run", str(exp), "--force", *FAST]) == 0  # still replaceable
    assert main(["-q", "plot", str(res / "result.h5"), "--name", "map"]) == 3
    capsys.readouterr()
    assert main(["info", str(exp)]) == 0
    text = capsys.readouterr().out
    assert "t1_ir" in text and "vd" in text


@pytest.mark.shared
def test_real_bruker_folder_with_unknown_pulse_program(tmp_path, capsys):
    """DNPLab 15N T1 (local pulse program): refused with the fix, then run via nmrilt.toml."""
    src = shared_dataset("dnplab_15n_t1_304")
    exp = tmp_path / "304"
    shutil.copytree(src, exp)
    before = tree_digest(exp)
    assert main(["-q", "run", str(exp), "--formats", "png"]) == 2
    err = capsys.readouterr().err
    assert "nmrilt.toml" in err and "kind" in err and "Traceback" not in err
    (exp / "nmrilt.toml").write_text('[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]\n')
    assert main(["-q", "run", str(exp), "--formats", "png"]) == 0
    rows = csv.DictReader((exp / "nmrilt" / "peaks.csv").open())
    shifts = [float(r["shift_mean_ppm"]) for r in rows]
    assert shifts and all(100 < s < 118 for s in shifts[:1])   # the 15N line, not artifacts
    after = tree_digest(exp)
    after.pop("nmrilt.toml")
    assert after == before


def test_one_dimensional_folders_are_not_batch_experiments(tmp_path):
    from nmrilt.batch import find_experiments

    root = tmp_path / "data"
    bruker_1d = root / "a" / "1"
    bruker_1d.mkdir(parents=True)
    (bruker_1d / "acqus").write_text("##$TD= 1024\n")
    (bruker_1d / "fid").write_bytes(b"\0" * 4096)
    varian_1d = copy_example("varian_t1_arrayed.fid", root / "b" / "one.fid")
    head = "arraydim 7 1 1e+18 -1e+18 0 2 1 0 1 64\n"
    text = (varian_1d / "procpar").read_text()
    assert head + "1 12" in text
    (varian_1d / "procpar").write_text(text.replace(head + "1 12", head + "1 1"))
    arrayed = copy_example("varian_t1_arrayed.fid", root / "c" / "t1.fid")
    pseudo = copy_example("bruker_t1ir_pseudo2d", root / "d" / "5")
    assert find_experiments(root) == [arrayed, pseudo]


def test_watch_processes_a_halted_acquisition_after_stale_after(tmp_path):
    """A ser that stopped growing short of what the TDs promise is processed after
    ``stale_after_s`` (here 0), as far as it got; the reader's warning lands in the report."""
    from nmrilt.watch import watch

    root = tmp_path / "data"
    exp = copy_example("bruker_t2cpmg_pseudo2d", root / "halted")
    ser = (exp / "ser").read_bytes()
    (exp / "ser").write_bytes(ser[: len(ser) * 3 // 4])
    summary = watch(root, interval=0, max_polls=2, stale_after_s=0.0, progress=False,
                    formats=["png"], shift_mode="sum")
    assert summary.done == [exp] and not summary.failed
    report = (exp / "nmrilt" / "report.txt").read_text()
    assert "warnings:" in report and "ReadWarning" in report


@pytest.mark.parametrize("argv", [["batch", "{x}"], ["watch", "{x}", "--once"],
                                  ["plot", "{x}/result.h5"]])
def test_nonexistent_inputs_exit_2(tmp_path, capsys, argv):
    """A typo in a cron line must not pass as "0 done"; plot's input is the result."""
    missing = str(tmp_path / "typo")
    assert main(["-q", *(a.format(x=missing) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nmrilt: error:") and "typo" in err and "Traceback" not in err


def test_plot_of_a_foreign_h5_is_an_input_error(tmp_path, capsys):
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    assert main(["-q", "plot", str(tmp_path / "other.h5")]) == 2
    assert "not an nmrilt result" in capsys.readouterr().err


def test_verbose_shows_nmrilt_debug_lines_only(tmp_path):
    """-v: nmrilt's own steps, not matplotlib's font search (thousands of lines)."""
    import subprocess
    import sys

    exp = copy_example("bruker_t1ir_pseudo2d", tmp_path / "exp")
    cmd = [sys.executable, "-m", "nmrilt.cli", "-v", "run", str(exp), *FAST,
           "--set", "max_iter=5"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    debug = [ln for ln in out.stderr.splitlines() if ln.startswith("nmrilt: DEBUG")]
    assert debug, "no debug lines from nmrilt"
    assert "matplotlib" not in out.stderr and "fontTools" not in out.stderr
    assert "findfont" not in out.stderr
