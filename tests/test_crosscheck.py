"""The exponential cross-check: fitted values and standard errors against known truths,
the bi-exponential F-test, the region split of a result, and the files it writes."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import copy_example, truth
from pipeline_helpers import result_of

from nmrilt.crosscheck import (
    crosscheck,
    fit_exponentials,
    fit_series,
    peak_columns,
    region_series,
)
from nmrilt.model import Dimension
from nmrilt.output.components import components
from nmrilt.solver.kernels import inversion_recovery

T = np.geomspace(0.005, 10.0, 16)
B = np.linspace(0.0, 2e10, 16)

CASES = {  # kernel: (sampling, noiseless model, true value)
    "inversion_recovery": (T, lambda t: 1000 * (0.97 - 1.9 * np.exp(-t / 0.8)), 0.8),
    "saturation_recovery": (T, lambda t: 500 * (1.0 - np.exp(-t / 1.3)), 1.3),
    "exponential": (T, lambda t: 800 * np.exp(-t / 0.3), 0.3),
    "diffusion": (B, lambda b: 5.0 * np.exp(-b * 1.5e-10), 1.5e-10),
}


@pytest.mark.parametrize("kernel", list(CASES))
def test_mono_fit_recovers_the_truth_and_calibrated_standard_errors(kernel):
    t, f, true = CASES[kernel]
    rng = np.random.default_rng(11)
    clean = f(t)
    noise = 0.01 * float(np.max(np.abs(clean)))
    fits = [fit_exponentials(t, clean + noise * rng.standard_normal(t.size), kernel)
            for _ in range(150)]
    values = np.array([fi.values[0] for fi in fits])
    ses = np.array([fi.values_se[0] for fi in fits])
    assert all(fi.ok and fi.n_exp == 1 for fi in fits)
    # unbiased within 3 standard errors of the mean; mean SE within 25 % of the scatter
    assert abs(values.mean() - true) < 3 * values.std() / np.sqrt(values.size)
    assert 0.75 < ses.mean() / values.std() < 1.25
    noiseless = fit_exponentials(t, clean, kernel)
    assert noiseless.values[0] == pytest.approx(true, rel=1e-6)


def test_inversion_recovery_offset_and_amplitude():
    t, f, _ = CASES["inversion_recovery"]
    fit = fit_exponentials(t, f(t), "inversion_recovery")
    assert fit.offset == pytest.approx(970.0, rel=1e-6)
    assert fit.amplitudes[0] == pytest.approx(1900.0, rel=1e-6)  # b/2a = 0.98: imperfect


def test_bi_exponential_is_justified_for_two_separated_decays_only():
    rng = np.random.default_rng(2)
    y2 = 1000 * (0.6 * np.exp(-T / 0.05) + 0.4 * np.exp(-T / 1.5))
    two = fit_series(T, y2 + 2.0 * rng.standard_normal(T.size), "exponential")
    assert two["bi_justified"] and two["f_p"] < 1e-6
    assert two["bi"].values == pytest.approx([0.05, 1.5], rel=0.05)
    assert two["bi"].amplitudes == pytest.approx([600.0, 400.0], rel=0.05)
    assert np.all(np.abs(two["bi"].values - [0.05, 1.5]) < 4 * two["bi"].values_se)
    justified = 0
    for seed in range(20):  # a mono decay: the F-test must rarely (p < 0.01) call it bi
        noise = 2.0 * np.random.default_rng(seed).standard_normal(T.size)
        justified += fit_series(T, 1000 * np.exp(-T / 0.3) + noise, "exponential")[
            "bi_justified"]
    assert justified <= 2


def test_too_few_points_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot determine"):
        fit_exponentials(T[:3], np.ones(3), "inversion_recovery")
    with pytest.raises(ValueError, match="no conventional"):
        fit_exponentials(T, np.ones(T.size), "identity")


def _two_peak_result():
    """T1 x shift: two regions (gap between them) with T1 0.3 s and 2 s, fit = data."""
    ppm = np.concatenate([np.linspace(1.0, 1.2, 6), np.linspace(3.0, 3.2, 6)])
    tau = np.geomspace(1e-3, 1e2, 100)
    g = np.zeros((tau.size, ppm.size))
    g[np.argmin(abs(tau - 0.3)), :6] = 1.0
    g[np.argmin(abs(tau - 2.0)), 6:] = 2.0
    dims = (Dimension("T1", "s", "delay", "inversion_recovery", "vd", "s"),
            Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm", ppm))
    fit = inversion_recovery(T, tau) @ g
    return result_of(g, fit, np.zeros_like(fit), fit, (T, ppm), (tau, ppm), dims,
                     np.asarray(3.0), 1.0)


def test_region_series_and_table_of_a_result():
    result = _two_peak_result()
    series = region_series(result)
    assert [s.label for s in series] == ["1.000..1.200 ppm", "3.000..3.200 ppm"]
    tau = result.tau[0]
    t1 = [tau[np.argmin(abs(tau - 0.3))], tau[np.argmin(abs(tau - 2.0))]]
    assert series[0].data == pytest.approx(3.0 * 6 * (1 - 2 * np.exp(-T / t1[0])))
    assert series[1].ppm_range == (3.0, 3.2)
    table = crosscheck(result)
    for row, true in zip(table, t1):
        assert row["mono_T1_s"] == pytest.approx(true, rel=1e-5)
        assert row["ilt_T1_s"] == pytest.approx(true, rel=1e-9)
        assert row["mono_offset_au"] == pytest.approx(row["mono_amplitude_au"] / 2, rel=1e-5)
    cols = peak_columns(result, components(result))
    by_region = {c["xcheck_region"]: c["xcheck_mono_T1_s"] for c in cols}
    assert by_region == {1: table[0]["mono_T1_s"], 2: table[1]["mono_T1_s"]}


def test_two_inverted_dimensions_have_no_crosscheck():
    from pipeline_helpers import small_result

    result = small_result("2d")
    assert crosscheck(result) == [] and region_series(result) == []
    assert peak_columns(result, [{}, {}]) == [{}, {}]


def test_run_writes_crosscheck_peaks_columns_and_figure(tmp_path):
    exp = copy_example("bruker_t1ir_pseudo2d", tmp_path / "ir")
    from nmrilt.pipeline import run

    out = run(exp, progress=False, formats=["png"]).path
    rows = list(csv.DictReader((out / "crosscheck.csv").open()))
    peaks = list(csv.DictReader((out / "peaks.csv").open()))
    true = sorted(p["t1_s"] for p in truth("bruker_t1ir_pseudo2d")["peaks"])
    assert len(rows) == len(true)
    got = sorted(float(r["mono_T1_s"]) for r in rows)
    assert got == pytest.approx(true, rel=0.03)
    assert all(float(p["xcheck_mono_T1_s"]) > 0 and float(p["xcheck_mono_T1_s_se"]) > 0
               for p in peaks)
    assert (out / "diagnostics.png").stat().st_size > 10_000
