"""The TopSpin view (nmrilt.output.topspin) and the commands that run nmrilt on the current dataset.

Every view is read back with nmrglue's own reader; axes are rebuilt from procs/proc2s with the
Bruker rule ``value(i) = OFFSET - i * SW_p / (SF * SI)`` (and, for ppm, with nmrglue's unit
conversion) and compared with the grids stored in result.h5.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest
from conftest import copy_example
from pipeline_helpers import result_of

import nmrilt
from nmrilt.cli import build_parser, main
from nmrilt.config import load_settings
from nmrilt.errors import ConfigError, OutputError
from nmrilt.model import Dimension, Result
from nmrilt.output import read_result
from nmrilt.output.topspin import (
    MARKER_NAME,
    bruker_expno,
    plan_procno,
    topspin_map,
    write_topspin_procno,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "example_datasets"
FAST = {"formats": ["png"], "max_iter": 30, "progress": False}
FAST_TOML = '[inversion]\nmax_iter = 30\n[output]\nformats = ["png"]\n'


def _copy(name: str, dest: Path) -> Path:
    # without the results a README run leaves in the example folder
    return copy_example(name, dest)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _untouched(hashes: dict[str, str], procno: int) -> dict[str, str]:
    """Entries of ``hashes`` outside nmrilt's own output and the view's procno."""
    own = (f"pdata/{procno}/", "nmrilt/")
    return {k: v for k, v in hashes.items() if not k.startswith(own)}


def _axis(procs: dict) -> np.ndarray:
    """Bruker's axis of one processed dimension."""
    si = procs["SI"]
    return procs["OFFSET"] - np.arange(si) * procs["SW_p"] / (procs["SF"] * si)


def _map_of(result: Result) -> np.ndarray:
    return result.g * np.broadcast_to(result.scale, result.g.shape)


def _stored_step(dic: dict) -> float:
    return 2.0 ** dic["procs"]["NC_proc"]


@pytest.mark.parametrize("name, quantity, unit", [
    ("bruker_t1ir_pseudo2d", "T1", "s"),
    ("bruker_t2cpmg_pseudo2d", "T2", "s"),
    ("bruker_diffusion_pseudo2d", "D", "m2/s"),
])
def test_pseudo2d_view_reads_back_with_the_grids_and_map_of_result_h5(
    tmp_path, name, quantity, unit
):
    exp = _copy(name, tmp_path / name)
    before = _hashes(exp)
    result = nmrilt.run(exp, topspin=True, **FAST)
    view = result.topspin
    assert view == exp / "pdata" / "999"
    dic, data = ng.bruker.read_pdata(str(view), read_acqus=False)
    stored = read_result(result.path)
    tau, ppm = stored.tau[0], stored.dims[1].ppm

    assert data.shape == (dic["proc2s"]["SI"], dic["procs"]["SI"])
    f1, f2 = _axis(dic["proc2s"]), _axis(dic["procs"])
    uc = ng.fileiobase.uc_from_udic(ng.bruker.guess_udic(dic, data), dim=1)
    np.testing.assert_allclose(uc.ppm_scale(), f2, atol=1e-9)       # nmrglue agrees
    cols = np.array([np.argmin(np.abs(f2 - p)) for p in ppm])
    rows = np.array([np.argmin(np.abs(f1 - t)) for t in np.log10(tau)])
    np.testing.assert_allclose(f2[cols], ppm, atol=1e-9)             # on the grid, exactly
    np.testing.assert_allclose(f1[rows], np.log10(tau), atol=1e-9)
    assert np.all(np.diff(f2) < 0) and f2.max() >= ppm.max() and f2.min() <= ppm.min()

    expected = _map_of(stored)
    tol = _stored_step(dic) / 2 * 1.0001                             # half a stored step
    np.testing.assert_allclose(data[np.ix_(rows, cols)], expected, rtol=0, atol=tol)
    assert tol <= np.abs(expected).max() * 2.0**-28
    mask = np.ones(data.shape, bool)
    mask[np.ix_(rows, cols)] = False
    assert not data[mask].any()                                     # gaps and padding: zeros

    assert dic["proc2s"]["AXNAME"] == f"log10({quantity})"
    assert dic["proc2s"]["AXUNIT"] == unit and dic["procs"]["AXUNIT"] == "ppm"
    assert dic["procs"]["DTYPP"] == 0 and dic["procs"]["BYTORDP"] == 0
    title = (view / "title").read_text()
    assert f"nmrilt {nmrilt.__version__}" in title and quantity in title
    assert "settings:" in title and '"max_iter":30' in title
    after = _hashes(exp)
    assert _untouched(after, 999) == before                 # raw files, pdata/1


def test_pseudo3d_view_is_the_shift_summed_t1_t2_map(tmp_path):
    exp = _copy("bruker_t1t2_pseudo3d", tmp_path / "t1t2")
    result = nmrilt.run(exp, topspin=True, **{**FAST, "max_iter": 8})
    dic, data = ng.bruker.read_pdata(result.topspin, read_acqus=False)
    stored = read_result(result.path)
    expected = _map_of(stored).sum(axis=2)                           # (T1, T2)
    f1, f2 = _axis(dic["proc2s"]), _axis(dic["procs"])
    rows = [int(np.argmin(np.abs(f1 - v))) for v in np.log10(stored.tau[0])]
    cols = [int(np.argmin(np.abs(f2 - v))) for v in np.log10(stored.tau[1])]
    np.testing.assert_allclose(f1[rows], np.log10(stored.tau[0]), atol=1e-9)
    np.testing.assert_allclose(f2[cols], np.log10(stored.tau[1]), atol=1e-9)
    np.testing.assert_allclose(data[np.ix_(rows, cols)], expected, rtol=0,
                               atol=_stored_step(dic) / 2 * 1.0001)
    assert (dic["proc2s"]["AXNAME"], dic["procs"]["AXNAME"]) == ("log10(T1)", "log10(T2)")


def test_shift_summed_result_gives_a_1d_view_on_log_tau(tmp_path):
    exp = _copy("bruker_t1ir_pseudo2d", tmp_path / "ir")
    result = nmrilt.run(exp, topspin=True, shift_mode="sum", **FAST)
    view = result.topspin
    assert (view / "1r").is_file() and not (view / "2rr").exists()
    dic, data = ng.bruker.read_pdata(str(view), read_acqus=False)
    stored = read_result(result.path)
    axis = _axis(dic["procs"])
    idx = [int(np.argmin(np.abs(axis - v))) for v in np.log10(stored.tau[0])]
    np.testing.assert_allclose(axis[idx], np.log10(stored.tau[0]), atol=1e-9)
    np.testing.assert_allclose(data[idx], _map_of(stored), rtol=0,
                               atol=_stored_step(dic) / 2 * 1.0001)


def test_second_run_with_force_replaces_only_its_own_procno(tmp_path):
    exp = _copy("bruker_t1ir_pseudo2d", tmp_path / "ir")
    args = ["-q", "run", str(exp), "--topspin", "--formats", "png", "--set", "max_iter=30"]
    assert main(args) == 0
    first = _hashes(exp)
    assert main(args) == 3                                           # exists, no --force
    assert _hashes(exp) == first
    assert main([*args, "--procno", "1", "--force"]) == 3            # TopSpin's own procno
    assert _hashes(exp) == first
    assert main([*args, "--force", "--set", "max_iter=12"]) == 0
    second = _hashes(exp)
    assert sorted(p.name for p in (exp / "pdata").iterdir()) == ["1", "999"]
    changed = {k for k in second if first.get(k) != second[k]}
    assert changed and all(k.startswith(("pdata/999/", "nmrilt/")) for k in changed)
    assert "pdata/999/2rr" in changed and "pdata/999/title" in changed
    assert set(first) == set(second)


def test_procno_choice_skips_foreign_folders_and_reuses_its_own(tmp_path):
    exp = _copy("bruker_t1t2_pseudo3d", tmp_path / "x")
    (exp / "pdata" / "999").mkdir()
    assert plan_procno(exp) == 1000
    own = exp / "pdata" / "1000"
    own.mkdir()
    (own / MARKER_NAME).write_text('{"nmrilt_version": "0.1.0"}')
    assert plan_procno(exp) == 1001                                  # without force: a new one
    assert plan_procno(exp, force=True) == 1000
    assert plan_procno(exp, 1000, force=True) == 1000
    with pytest.raises(OutputError, match="not written by nmrilt"):
        plan_procno(exp, 999, force=True)
    with pytest.raises(OutputError, match="not a Bruker experiment"):
        plan_procno(EXAMPLES / "varian_t1_arrayed.fid")
    assert bruker_expno(exp / "pdata" / "1") == exp == bruker_expno(exp / "acqus")
    assert plan_procno(exp / "pdata" / "1", force=True) == 1000      # the view of its EXPNO


def test_binned_ppm_points_with_gaps_land_on_distinct_nearest_grid_points():
    ppm = np.array([1.0, 1.03, 1.06, 1.08, 3.5, 3.52, 3.55])         # bins, a gap, uneven ends
    tau = np.logspace(-3, 1, 9)
    rng = np.random.default_rng(1)
    g = rng.standard_normal((tau.size, ppm.size))
    dims = (Dimension("T1", "s", "delay", "inversion_recovery", "vd", "s"),
            Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm", ppm))
    result = result_of(g, g, g * 0, g, (tau, ppm), (tau, ppm), dims, np.full((1, ppm.size), 3.0),
                    1.0, parameters={"meta": {"sfo1_mhz": 400.0, "sw_hz": 4000.0,
                                              "carrier_ppm": 4.0, "nucleus": "1H"}})
    tmap = topspin_map(result)
    f1, f2 = (a.values() for a in tmap.axes)
    dx = 0.02                                                        # finest spacing
    assert np.isclose(tmap.axes[1].step, dx)
    cols = np.array([np.argmin(np.abs(f2 - p)) for p in ppm])
    assert len(set(cols)) == ppm.size
    assert np.max(np.abs(f2[cols] - ppm)) <= dx / 2 + 1e-12
    assert tmap.notes["ppm_displacement_max"] <= dx / 2
    assert f2.max() >= 4.0 + 5.0 - dx and f2.min() <= 4.0 - 5.0 + 1e-9  # spans the spectrum
    rows = np.array([np.argmin(np.abs(f1 - v)) for v in np.log10(tau)])
    np.testing.assert_array_equal(tmap.data[np.ix_(rows, cols)], 3.0 * g)
    assert np.isclose(tmap.data.sum(), 3.0 * g.sum())
    assert all(a.size & (a.size - 1) == 0 for a in tmap.axes)        # powers of two
    other = replace(result, dims=(dims[0], replace(dims[1], ppm=None)))
    with pytest.raises(OutputError, match="no TopSpin"):
        topspin_map(other)


def _synthetic_result(source: Path) -> Result:
    ppm = np.array([1.0, 1.01, 1.02, 3.0, 3.01])
    tau = np.logspace(-3, 0, 4)
    g = np.arange(20.0).reshape(4, 5) - 7
    dims = (Dimension("T1", "s", "delay", "inversion_recovery", "vd", "s"),
            Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm", ppm))
    meta = {"sfo1_mhz": 400.0, "sw_hz": 4000.0, "carrier_ppm": 4.0, "nucleus": "1H"}
    return result_of(g, g, g, g, (tau, ppm), (tau, ppm), dims, np.ones((1, 5)), 1.0,
                  parameters={"meta": meta}, source=str(source), kind="t1_ir")


def test_parameter_files_start_from_topspins_own_and_set_the_view(tmp_path):
    exp = _copy("bruker_t1ir_pseudo2d", tmp_path / "ir")
    procs = exp / "pdata" / "1" / "procs"
    procs.write_text(procs.read_text().replace("##END=", "##$SREGLST= <1H.CDCl3>\n##END="))
    before = _hashes(exp)
    view = write_topspin_procno(_synthetic_result(exp))
    dic, data = ng.bruker.read_pdata(str(view), read_acqus=False)
    assert dic["procs"]["SREGLST"] == "1H.CDCl3"                     # kept from pdata/1
    assert dic["procs"]["LB"] == 0 and dic["procs"]["WDW"] == 0      # pdata/1: 0.3, 1
    assert dic["proc2s"]["AXNAME"] == "log10(T1)" and dic["proc2s"]["SF"] == 1.0
    np.testing.assert_allclose(_axis(dic["procs"])[data.any(axis=0)][:3], [3.01, 3.0, 1.02],
                               atol=1e-9)
    assert _untouched(_hashes(exp), 999) == before


def test_summed_regions_are_single_columns_at_their_centres():
    centres = np.array([1.1984, 3.4003, 7.1006])
    tau = np.logspace(-2, 1, 7)
    g = np.arange(tau.size * centres.size, dtype=float).reshape(tau.size, centres.size) - 5
    dims = (Dimension("T2", "s", "echo", "exponential", "t", "s"),
            Dimension("region", "ppm", "chemical_shift", "identity", "δ", "ppm", centres))
    meta = {"sfo1_mhz": 400.0, "sw_hz": 4000.0, "carrier_ppm": 4.0}
    result = result_of(g, g, g, g, (tau, centres), (tau, centres), dims, np.ones((1, 3)), 1.0,
                    parameters={"meta": meta})
    tmap = topspin_map(result)
    f2 = tmap.axes[1].values()
    dx = 10.0 / 1024                                                 # window / 1024 points
    assert np.isclose(tmap.axes[1].step, dx) and tmap.axes[1].size == 1024
    cols = [int(np.argmin(np.abs(f2 - c))) for c in centres]
    assert np.max(np.abs(f2[cols] - centres)) <= dx / 2 + 1e-12
    rows = [int(np.argmin(np.abs(tmap.axes[0].values() - v))) for v in np.log10(tau)]
    np.testing.assert_array_equal(tmap.data[np.ix_(rows, cols)], g)
    assert np.count_nonzero(tmap.data) == np.count_nonzero(g)


def test_non_bruker_experiment_is_processed_without_a_view(tmp_path, caplog):
    exp = tmp_path / "v.fid"
    copy_example("varian_t1_arrayed.fid", exp)
    result = nmrilt.run(exp, topspin=True, shift_mode="sum", **FAST)
    assert result.topspin is None
    assert "not a Bruker experiment" in caplog.text
    assert not (exp / "pdata").exists()


@pytest.mark.parametrize("bad", [{"topspin": "yes"}, {"topspin_procno": -1},
                                 {"topspin_procno": True}])
def test_topspin_settings_are_validated(bad):
    with pytest.raises(ConfigError, match="output.topspin"):
        load_settings(**bad)


# --- the commands for TopSpin and VnmrJ -----------------------------------------------------


def _dataset(tmp_path: Path) -> tuple[Path, Path]:
    """A TopSpin data folder <dir>/<name>/<expno> holding the T1 example (fast settings)."""
    data = tmp_path / "data"
    exp = _copy("bruker_t1ir_pseudo2d", data / "sample" / "5")
    (exp / "nmrilt.toml").write_text(FAST_TOML)
    return data, exp


def _load_topspin_program():
    spec = importlib.util.spec_from_file_location(
        "nmrilt_run_topspin", ROOT / "docs" / "topspin" / "nmrilt_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)                                   # no CURDATA: no run
    return module


def test_topspin_python_program_runs_nmrilt_and_opens_the_view(tmp_path):
    data, exp = _dataset(tmp_path)
    program = _load_topspin_program()
    curdata = ["sample", "5", "1", str(data), "nmruser"]
    assert program.build_command(curdata)[:4] == ["nmrilt", "-q", "run", str(exp)]
    opened, errors = [], []
    program.NMRILT = [sys.executable, "-m", "nmrilt.cli"]
    program.CURDATA = lambda: curdata
    program.SHOW_STATUS = lambda text: None
    program.ERRMSG = errors.append
    program.EXIT = lambda: (_ for _ in ()).throw(SystemExit(1))
    program.RE = opened.append
    program.main()
    assert errors == []
    assert opened == [["sample", "5", str(program.PROCNO), str(data), "nmruser"]]
    assert (exp / "pdata" / str(program.PROCNO) / "2rr").is_file()


def test_au_program_command_line_runs_and_opens_its_procno(tmp_path):
    text = (ROOT / "docs" / "topspin" / "nmrilt_au").read_text()
    fmt = re.search(r'sprintf\(cmd, "((?:[^"\\]|\\.)*)", disk, name, expno, NMRILT_PROCNO\)',
                    text).group(1).replace('\\"', '"')
    procno = int(re.search(r"#define NMRILT_PROCNO (\d+)", text).group(1))
    assert "RPROCNO(NMRILT_PROCNO)" in text and "REXPNO(expno)" in text
    data, exp = _dataset(tmp_path)
    argv = shlex.split(fmt % (str(data), "sample", 5, procno))
    assert argv[0] == "nmrilt" and argv[3] == str(exp)
    assert main(argv[1:]) == 0
    assert (exp / "pdata" / str(procno) / "2rr").is_file()


def test_vnmrj_macro_command_line_is_accepted_by_nmrilt():
    text = (ROOT / "docs" / "vnmrj" / "nmrilt").read_text()
    line = re.search(r"^\$cmd = (.*)$", text, re.MULTILINE).group(1)
    command = "".join(part.strip().strip("'") if part.strip().startswith("'") else "/d/s_x"
                      for part in line.split("+"))
    argv = shlex.split(command)
    args = build_parser().parse_args(argv[1:])
    assert argv[0] == "nmrilt" and args.command == "run"
    assert str(args.expdir) == "/d/s_x.fid" and args.force
