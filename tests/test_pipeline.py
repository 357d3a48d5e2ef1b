"""End to end through the Python API on copies of the example datasets."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_example
from conftest import truth as _truth
from pipeline_helpers import tree_digest

import nmrilt
from nmrilt import pipeline
from nmrilt.errors import OutputError, ResultExistsError
from nmrilt.output import read_result



def _copy(name: str, dest: Path) -> Path:
    """Example ``name`` copied to ``dest/name``."""
    return copy_example(name, dest / name)


def _peaks(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "peaks.csv").open()))


def _match(rows: list[dict], ppm: float) -> dict:
    """The strongest positive component within 0.3 ppm of ``ppm``."""
    near = [r for r in rows if r["sign"] == "+" and abs(float(r["shift_mean_ppm"]) - ppm) < 0.3]
    assert near, f"no positive component near {ppm} ppm in {rows}"
    return max(near, key=lambda r: float(r["integral_au"]))


def test_pseudo3d_t1_t2_run_recovers_the_stored_truths(tmp_path):
    """README's main job: every file written, T1/T2/δ of the three peaks recovered.

    Tolerances: δ within 0.3 ppm (the default sums 3 points of 0.02 ppm per column),
    T1 and T2 within 0.1 decade (26 %) — the grid has 10 points per decade; amplitude
    ratios within 15 %.
    """
    name = "bruker_t1t2_pseudo3d"
    exp = _copy(name, tmp_path)
    before = tree_digest(exp)
    result = nmrilt.run(exp, progress=False)
    out = exp / "nmrilt"
    assert result.path == out
    assert sorted(p.name for p in out.iterdir()) == [
        ".nmrilt-result.json",
        "map.csv", "map.pdf", "map.png", "map.svg", "peaks.csv", "report.txt", "result.h5"]
    assert all(p.stat().st_size > 0 for p in out.iterdir())
    assert tree_digest(exp) == before, "a raw file changed"
    rows = _peaks(out)
    for peak in _truth(name)["peaks"]:
        row = _match(rows, peak["ppm"])
        assert float(row["T1_mean_log10_s"]) == pytest.approx(np.log10(peak["t1_s"]), abs=0.1)
        assert float(row["T2_mean_log10_s"]) == pytest.approx(np.log10(peak["t2_s"]), abs=0.1)
    back = read_result(out / "result.h5")
    assert [d.name for d in back.dims] == ["T1", "T2", "shift"]
    # amplitudes: signed sums of g (spectrum units) over the ppm range of each peak, relative
    # to the first peak, within 15 % (the truncated FIDs are line-broadened automatically)
    g, ppm = back.g * back.scale, back.tau[2]
    edges = [0.0, 2.3, 5.25, 10.0]
    sums = [g[..., (ppm > a) & (ppm < b)].sum() for a, b in zip(edges, edges[1:])]
    truth = [p["amplitude"] for p in _truth(name)["peaks"]]
    for got, want in zip(sums, truth):
        assert got / sums[0] == pytest.approx(want / truth[0], rel=0.15)
    # data reach the solver at unit noise variance, so a fit that reaches the noise has
    # residual rms ~1 (it was 0.34 when tails of the lines were counted as noise, and 1.26
    # when the noise folded onto the first FID points by the filter removal was ignored)
    rms = float(np.sqrt(np.mean(back.residuals**2)))
    assert 0.8 <= rms <= 1.2, f"residual rms {rms:.3f}: noise scaling or fit is off"
    # the automatic choice of the global weight is recorded in result.h5 and report.txt
    assert back.stats["alpha_choice"] == "discrepancy"
    assert 0 < back.stats["alpha_00_used"] <= 1.0
    assert "alpha_choice=discrepancy alpha_00 used" in (out / "report.txt").read_text()
    assert set(back.checksums) >= {"ser", "acqus", "vdlist", "vclist"}
    assert back.parameters["choices"]["kernels"] == ["inversion_recovery", "exponential",
                                                     "identity"]


def test_t1_ir_run_recovers_t1s_and_amplitude_ratios(tmp_path):
    """Pseudo-2D IR: T1 within 0.1 decade, amplitude ratios to the strongest within 25 %;
    processed with the phase and window stored in its procs, as report.txt says."""
    name = "bruker_t1ir_pseudo2d"
    exp = _copy(name, tmp_path)
    nmrilt.run(exp, progress=False, formats=["png"])
    rows = _peaks(exp / "nmrilt")
    peaks = _truth(name)["peaks"]
    ref = float(_match(rows, peaks[0]["ppm"])["integral_au"])
    for peak in peaks:
        row = _match(rows, peak["ppm"])
        assert float(row["T1_mean_log10_s"]) == pytest.approx(np.log10(peak["t1_s"]), abs=0.1)
        ratio = float(row["integral_au"]) / ref
        assert ratio == pytest.approx(peak["amplitude"] / peaks[0]["amplitude"], rel=0.25)
    report = (exp / "nmrilt" / "report.txt").read_text()
    assert '"method": "TopSpin procs PHC0 = 0, PHC1 = 0 (pdata/1)"' in report
    assert '"how": "TopSpin procs LB = 0.3 Hz, WDW = 1 (pdata/1)"' in report


def test_existing_result_needs_force_and_force_replaces_it(tmp_path):
    exp = _copy("bruker_t2cpmg_pseudo2d", tmp_path)
    first = nmrilt.run(exp, progress=False, formats=["png"], shift_mode="sum")
    with pytest.raises(ResultExistsError, match="--force"):
        nmrilt.run(exp, progress=False, formats=["png"])
    second = nmrilt.run(exp, progress=False, formats=["png"], force=True)
    assert first.g.ndim == 1 and second.g.ndim == 2
    assert read_result(exp / "nmrilt").g.ndim == 2
    assert not [p for p in exp.iterdir() if p.name.startswith(".nmrilt")]


def test_folder_settings_file_is_used_and_recorded(tmp_path):
    exp = _copy("bruker_t2cpmg_pseudo2d", tmp_path)
    (exp / "nmrilt.toml").write_text('[processing]\nshift_mode = "sum"\n'
                                     '[output]\nformats = ["svg"]\n')
    result = nmrilt.run(exp, progress=False)
    assert result.g.ndim == 1
    assert (exp / "nmrilt" / "map.svg").is_file() and not (exp / "nmrilt" / "map.png").exists()
    assert result.parameters["settings"]["processing"]["shift_mode"] == "sum"


def test_failure_while_writing_leaves_no_output_folder(tmp_path, monkeypatch):
    exp = _copy("bruker_t2cpmg_pseudo2d", tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("nmrilt.output.plotting.plot_result", boom)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        nmrilt.run(exp, progress=False, shift_mode="sum")
    assert not (exp / "nmrilt").exists()
    assert not [p for p in exp.iterdir() if p.name.startswith(".nmrilt")]


def test_read_only_experiment_folder_suggests_out(tmp_path, monkeypatch):
    exp = _copy("bruker_t2cpmg_pseudo2d", tmp_path)
    if os.geteuid() == 0:  # root ignores permissions: simulate the refusal

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
        with pytest.raises(OutputError, match="--out DIR"):
            nmrilt.run(exp, progress=False)
        monkeypatch.undo()
    else:
        exp.chmod(0o555)
        try:
            with pytest.raises(OutputError, match="--out DIR"):
                nmrilt.run(exp, progress=False)
        finally:
            exp.chmod(0o755)
    out = tmp_path / "elsewhere" / "res"
    result = nmrilt.run(exp, out=out, progress=False, formats=["png"], shift_mode="sum")
    assert result.path == out and (out / "result.h5").is_file()
    assert not (exp / "nmrilt").exists()


def test_replot_renders_figures_from_the_result_file_only(tmp_path):
    exp = _copy("bruker_t2cpmg_pseudo2d", tmp_path)
    nmrilt.run(exp, progress=False, formats=["png"], shift_mode="sum")
    figs = tmp_path / "figs"
    paths = pipeline.replot(exp / "nmrilt" / "result.h5", out=figs, formats=["pdf", "svg"],
                            width_mm=85)
    assert sorted(p.name for p in paths) == ["map.pdf", "map.svg"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_processed_pdata_spectra_give_the_same_t1s(tmp_path):
    """use_pdata = true: TopSpin's 2rr is used as is (no FT, no phasing)."""
    name = "bruker_t1ir_pseudo2d"
    exp = _copy(name, tmp_path)
    if not (exp / "pdata" / "1" / "2rr").is_file():
        pytest.skip("example has no processed data")
    result = nmrilt.run(exp, progress=False, formats=["png"], use_pdata=True)
    assert result.parameters["choices"]["phase"]["method"].startswith("none")
    rows = _peaks(exp / "nmrilt")
    for peak in _truth(name)["peaks"]:
        row = _match(rows, peak["ppm"])
        assert float(row["T1_mean_log10_s"]) == pytest.approx(np.log10(peak["t1_s"]), abs=0.1)


def test_intensity_table_file_gets_results_beside_it(tmp_path):
    """A CSV of echo times and intensities (no spectrum): T2 recovered, output <file>.nmrilt."""
    te = np.geomspace(1e-3, 4.0, 48)
    rng = np.random.default_rng(7)
    y = 100 * np.exp(-te / 0.01) + 50 * np.exp(-te / 1.0) + 0.5 * rng.standard_normal(te.size)
    f = tmp_path / "decay.csv"
    f.write_text("echo time (s),intensity\n" + "".join(f"{a},{b}\n" for a, b in zip(te, y)))
    before = f.read_bytes()
    result = nmrilt.run(f, progress=False, formats=["png"], kind="t2_cpmg")
    out = tmp_path / "decay.csv.nmrilt"
    assert result.path == out and (out / "result.h5").is_file()
    assert f.read_bytes() == before
    rows = _peaks(out)
    top = sorted((r for r in rows if r["sign"] == "+"), key=lambda r: -float(r["integral_au"]))
    logs = sorted(float(r["T2_mean_log10_s"]) for r in top[:2])
    assert logs == pytest.approx([-2.0, 0.0], abs=0.1)
    assert result.sigma == pytest.approx(0.5, rel=0.3)  # from second differences


@pytest.mark.parametrize(
    "toml, words",
    [
        ("[inversion]\nmax_iters = 5\n", r"inversion\.max_iters.*'max_iter'"),
        ("[experiment]\nknd = 't1_ir'\n", r"experiment\.knd.*'kind'"),
        ("[processing]\npoints_per_decade = 0\n", r"processing\.points_per_decade = 0"),
    ],
)
def test_bad_settings_file_fails_before_any_data_are_read(tmp_path, monkeypatch, toml, words):
    exp = _copy("bruker_t1ir_pseudo2d", tmp_path)
    (exp / "nmrilt.toml").write_text(toml)

    def no_reading(*args, **kwargs):
        raise AssertionError("data were read before the settings were checked")

    monkeypatch.setattr("nmrilt.readers.read", no_reading)
    with pytest.raises(nmrilt.ConfigError, match=words) as info:
        nmrilt.run(exp, progress=False)
    assert str(exp / "nmrilt.toml") in str(info.value)
    assert not (exp / "nmrilt").exists()


def test_settings_file_is_read_once_and_recorded_as_the_recipe_provenance(tmp_path, monkeypatch):
    from nmrilt.readers import recipes

    from nmrilt.config import load_settings

    exp = _copy("bruker_t1ir_pseudo2d", tmp_path)
    toml = exp / "nmrilt.toml"
    toml.write_text('[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]\n')
    settings = load_settings(exp)
    with_keyword = load_settings(exp, kind="t1_ir")

    def second_read(*args, **kwargs):
        raise AssertionError("nmrilt.toml parsed again by the readers")

    monkeypatch.setattr(recipes.tomllib, "load", second_read)
    read = nmrilt.read(exp, **settings.read_options())
    assert read.kind == "t1_ir"
    assert read.axes[0].meta["recipe"] == str(toml)
    assert toml in read.files
    # a keyword setting on top is recorded as an override
    both = nmrilt.read(exp, **with_keyword.read_options())
    assert both.axes[0].meta["recipe"] == f"{toml}, override"
