"""Diagnostics of a finished run: each check on hand-made results with a known defect, and
the WARNING path end to end (report.txt, stderr with -q, result.h5, figure, --strict)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import copy_example
from pipeline_helpers import result_of

from nmrilt import diagnostics
from nmrilt.cli import EXIT_OK, EXIT_WARNINGS, main
from nmrilt.model import Dimension
from nmrilt.output import read_result
from nmrilt.output.plotting import make_figure
from nmrilt.solver.kernels import inversion_recovery

VD = np.geomspace(0.01, 5.0, 16)
TAU = np.geomspace(1e-4, 1e3, 120)
PPM = np.linspace(1.0, 2.0, 40)
T1_DIM = Dimension("T1", "s", "delay", "inversion_recovery", "vd", "s")
SHIFT_DIM = Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm", PPM)


def _pseudo2d(residuals=None, t1=0.5, phase=None, converged=True, seed=0):
    """A T1 x shift result: one Gaussian line at 1.5 ppm with a single log-normal T1."""
    rng = np.random.default_rng(seed)
    line = np.exp(-((PPM - 1.5) ** 2) / 0.01)
    g = np.exp(-((np.log10(TAU) - np.log10(t1)) ** 2) / 0.005)[:, None] * line[None, :]
    fit = inversion_recovery(VD, TAU) @ g
    res = rng.standard_normal(fit.shape) if residuals is None else residuals
    choices = {"phase": phase} if phase is not None else {}
    result = result_of(g, fit, res, fit + res, (VD, PPM), (TAU, PPM), (T1_DIM, SHIFT_DIM),
                       np.asarray(1.0), 1.0, parameters={"choices": choices})
    if not converged:
        from dataclasses import replace

        inv = replace(result.inversion, converged=False, iterations=2, message="max_iter")
        result = replace(result, inversion=inv)
    return result


def _codes(result):
    return [d.code for d in diagnostics.check(result)]


def test_a_sound_result_raises_no_warning():
    for seed in range(5):  # unit-variance residuals: no false alarm over 40 columns
        assert _codes(_pseudo2d(seed=seed)) == []


def test_not_converged_is_reported():
    found = diagnostics.check(_pseudo2d(converged=False))
    assert [d.code for d in found] == ["not-converged"]
    assert "2 iterations" in found[0].message and "max_iter" in found[0].message


def test_residuals_beyond_the_noise_model_name_the_worst_column():
    res = np.random.default_rng(3).standard_normal((VD.size, PPM.size))
    res[:, 7] *= 3.0  # chi2/N ~ 9 in one column
    found = diagnostics.check(_pseudo2d(residuals=res))
    assert [d.code for d in found] == ["residuals"]
    assert "1 of 40" in found[0].message and f"{PPM[7]:.4g} ppm" in found[0].message


def test_a_mild_excess_in_one_column_is_not_flagged():
    res = np.random.default_rng(4).standard_normal((VD.size, PPM.size))
    res[:, 3] *= 1.3  # chi2/N ~ 1.7: not improbable after 40 columns' Bonferroni correction
    assert _codes(_pseudo2d(residuals=res)) == []


def test_overestimated_noise_is_reported():
    res = 0.3 * np.random.default_rng(5).standard_normal((VD.size, PPM.size))
    found = diagnostics.check(_pseudo2d(residuals=res))
    assert [d.code for d in found] == ["residuals"]
    assert "overestimated" in found[0].message


def test_chi2_per_column_uses_a_given_sigma():
    res = 2.0 * np.random.default_rng(6).standard_normal((VD.size, PPM.size))
    result = _pseudo2d(residuals=res)
    from dataclasses import replace

    weighted = replace(result, inversion=replace(result.inversion, options={"sigma": 2.0}))
    chi2, n, labels = diagnostics.chi2_per_column(weighted)
    assert chi2.shape == (PPM.size,) and np.all(n == VD.size) and labels[0] == "1 ppm"
    assert 0.7 < chi2.sum() / n.sum() < 1.3
    assert "residuals" in _codes(result) and _codes(weighted) == []


@pytest.mark.parametrize(("t1", "flagged"), [(0.5, False), (0.012, False), (60.0, True),
                                             (2e-3, True)])
def test_component_outside_the_sampled_range(t1, flagged):
    found = diagnostics.check(_pseudo2d(t1=t1))
    assert ([d.code for d in found] == ["outside-range"]) is flagged
    if flagged:
        assert "0.01..5 s" in found[0].message and "1.5 ppm" in found[0].message


def test_sampled_range_of_diffusion_is_reciprocal():
    assert diagnostics.sampled_range(np.array([0.0, 1e8, 1e10]), "diffusion") == (1e-10, 1e-8)
    assert diagnostics.sampled_range(np.array([0.0, 0.1, 2.0]), "exponential") == (0.1, 2.0)
    assert diagnostics.sampled_range(np.array([1.0, 2.0]), "identity") is None


@pytest.mark.parametrize(("phase", "flagged"), [
    ({"p0_deg": 10.0, "p1_deg": 428.0, "method": "auto (peak phases)"}, True),
    ({"p0_deg": 10.0, "p1_deg": -200.0, "method": "auto (peak phases)"}, True),
    ({"p0_deg": 10.0, "p1_deg": 35.0, "method": "auto (peak phases)"}, False),
    ({"p0_deg": 10.0, "p1_deg": 428.0, "method": "given"}, False),
    ({"p0_deg": 10.0, "p1_deg": 300.0, "method": "auto", "p1_limit_deg": 360.0}, False),
])
def test_implausible_first_order_phase(phase, flagged):
    assert (_codes(_pseudo2d(phase=phase)) == ["phase"]) is flagged


def test_figure_carries_a_red_mark_only_with_warnings():
    def marks(result):
        fig = make_figure(result)
        texts = fig.texts  # supxlabel included
        return [t.get_text() for t in texts if "WARNING" in t.get_text()]

    assert marks(_pseudo2d()) == []
    from dataclasses import replace

    warned = replace(_pseudo2d(), warnings=("not-converged: stopped",))
    (text,) = marks(warned)
    assert "not-converged" in text


# --- end to end through the CLI ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ir_example(tmp_path_factory):
    return copy_example("bruker_t1ir_pseudo2d", tmp_path_factory.mktemp("diag") / "ir")


def test_unconverged_run_warns_everywhere_and_strict_exits_nonzero(ir_example, tmp_path, capsys):
    import subprocess
    import sys

    out = tmp_path / "o"
    args = ["-q", "run", str(ir_example), "--out", str(out), "--set", "max_iter=2"]
    done = subprocess.run([sys.executable, "-m", "nmrilt.cli", *args, "--strict"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == EXIT_WARNINGS
    assert "nmrilt: WARNING: " in done.stderr and "not-converged" in done.stderr
    assert done.stdout == ""
    report = (out / "report.txt").read_text()
    assert "WARNING: not-converged: the solver stopped after 2 iterations" in report
    assert any(w.startswith("not-converged:") for w in read_result(out).warnings)
    assert main(args + ["--force"]) == EXIT_OK  # without --strict: written, exit 0


def test_clean_run_has_no_warning_and_strict_exits_zero(ir_example, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["-q", "run", str(ir_example), "--out", str(out), "--strict"]) == EXIT_OK
    assert "WARNING" not in capsys.readouterr().err
    assert read_result(out).warnings == ()
    assert "WARNING" not in (out / "report.txt").read_text()


def test_batch_counts_warnings_and_strict_exits_nonzero(ir_example, tmp_path, capsys):
    from nmrilt.batch import batch

    summary = batch(ir_example.parent, out=tmp_path / "b", progress=False, max_iter=2)
    assert summary.ok and list(summary.warnings) == [ir_example]
    assert "warnings" in summary.text() and "not-converged" in summary.text()
    code = main(["-q", "batch", str(ir_example.parent), "--out", str(tmp_path / "c"),
                 "--set", "max_iter=2", "--strict"])
    assert code == EXIT_WARNINGS


def test_small_shares_are_not_printed_as_zero_percent():
    from nmrilt.diagnostics import _percent

    assert [_percent(v) for v in (12.3, 1.0, 0.61, 0.004)] == ["12", "1", "0.6", "0.004"]
