"""Experiment -> Problem on synthetic experiments with known answers (no reader involved)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from nmrilt.readers import Axis, Experiment
from pipeline_helpers import SW_HZ, experiment, fids, ir_experiment

from nmrilt.errors import ConfigError, ProcessingError
from nmrilt.processing import auto_phase, folded_points, phase_shift, process


def _col(problem, ppm):
    axis = problem.dims[-1].ppm
    return int(np.argmin(np.abs(axis - ppm)))


@pytest.mark.parametrize("p0, p1", [(0.0, 0.0), (75.0, 0.0), (-40.0, 60.0), (150.0, -120.0)])
def test_auto_phase_puts_peaks_in_absorption(p0, p1):
    ppms = [1.5, 4.5, 7.0]
    n = 2048
    fid = fids(np.array([1.0, 0.7, 0.4]), ppms, n=n, p0_deg=p0, p1_deg=p1, noise=0.01)
    fid[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(fid))
    q0, q1 = auto_phase(spec)
    # phase error left at each peak position (fraction of the window, nmrglue convention)
    x = 0.5 + (np.array(ppms) - 4.0) * 400.0 / SW_HZ
    err = (q0 + q1 * x - (p0 + p1 * x) + 180.0) % 360.0 - 180.0
    assert np.all(np.abs(err) < 8.0), err


def test_phase_shift_corrects_a_known_linear_phase_error():
    # absorption Lorentzian lines given a phase error theta(k) = p0 + p1 k/n (nmrglue
    # convention): phase_shift(-p0, -p1) must return the pure absorption lines, and
    # phase_shift(p0, p1) must multiply point k by exactly exp(i theta(k))
    n, p0, p1 = 256, 50.0, -80.0
    k = np.arange(n)
    lines = sum(a / (1.0 - 1j * (k - c) / 3.0) for a, c in ((1.0, 60), (0.5, 190)))
    theta = np.deg2rad(p0 + p1 * k / n)
    distorted = lines * np.exp(1j * theta)
    assert np.max(np.abs(distorted.real - lines.real)) > 0.3  # the error is visible
    np.testing.assert_allclose(phase_shift(distorted, -p0, -p1), lines, atol=1e-12)
    np.testing.assert_allclose(phase_shift(lines, p0, p1), distorted, atol=1e-12)
    # zero-order 90 degrees turns absorption into (minus) dispersion point by point
    np.testing.assert_allclose(phase_shift(lines, 90.0, 0.0), 1j * lines, atol=1e-12)


def test_inversion_recovery_signs_and_ppm_axis_follow_the_contract():
    # a 200 degree zero-order error must not flip the sign of the map
    exp = ir_experiment(p0_deg=200.0, p1_deg=30.0)
    prob = process(exp)
    assert prob.kernels == ("inversion_recovery", "identity")
    for ppm, amp in ((2.0, 1.0), (6.0, 0.6)):
        col = prob.data[:, _col(prob, ppm)]
        assert col[0] < 0 < col[-1], f"peak at {ppm} ppm has the wrong sign"
    # the strongest column sits at the stronger peak's chemical shift (within a summed bin)
    width = np.max(np.diff(prob.dims[-1].ppm))
    strongest = prob.dims[-1].ppm[np.argmax(np.abs(prob.data[-1]))]
    assert abs(strongest - 2.0) <= width
    assert prob.dims[-1].unit == "ppm" and prob.dims[-1].role == "chemical_shift"
    np.testing.assert_array_equal(prob.tau[-1], prob.t[-1])


def test_noise_is_scaled_to_unit_variance():
    n, noise = 1024, 0.05
    exp = ir_experiment(noise=noise)
    prob = process(exp, max_shift_points=0, line_broadening_hz=0)
    # FT of complex white noise (std `noise` per channel): real part std noise*sqrt(n)
    assert prob.sigma == pytest.approx(noise * np.sqrt(n), rel=0.1)
    # with k neighbours summed, scale grows by sqrt(k) (less 0.2 %: the halved first point)
    prob4 = process(exp, max_shift_points=prob.data.shape[-1] // 4, line_broadening_hz=0)
    k = prob4.choices["shift"]["summed_neighbours"]
    assert k >= 4
    assert float(np.ravel(prob4.scale)[0]) == pytest.approx(prob4.sigma * np.sqrt(k), rel=0.01)


def test_noise_region_and_imaginary_channel_agree_with_auto():
    exp = ir_experiment(noise=0.05)
    auto = process(exp).sigma
    region = process(exp, noise="region", noise_region=[8.0, 9.5]).sigma
    imag = process(exp, noise="imaginary").sigma
    assert region == pytest.approx(auto, rel=0.15)
    assert imag == pytest.approx(auto, rel=0.15)


def test_sum_and_regions_modes():
    exp = ir_experiment()
    total = process(exp, shift_mode="sum")
    assert total.data.shape == (14,) and total.kernels == ("inversion_recovery",)
    reg = process(exp, shift_mode="regions", regions=[[1.5, 2.5], [5.5, 6.5]])
    assert reg.data.shape == (14, 2)
    np.testing.assert_allclose(reg.dims[-1].ppm, [2.0, 6.0], atol=0.05)
    assert reg.dims[-1].name == "region"
    # amplitude ratio of the two peaks (1 : 0.6) survives the integration at long delay
    ratio = (reg.data[-1, 1] * reg.scale.ravel()[1]) / (reg.data[-1, 0] * reg.scale.ravel()[0])
    assert ratio == pytest.approx(0.6 * (1 - 2 * np.exp(-10 / 1.5)), rel=0.05)
    with pytest.raises(ProcessingError, match="outside the spectrum"):
        process(exp, shift_mode="regions", regions=[[50, 60]])


def test_crop_is_where_the_signal_is():
    prob = process(ir_experiment())
    lo, hi = sorted(prob.choices["shift"]["crop_ppm"])
    assert lo < 2.0 and hi > 6.0
    assert hi - lo < 7.5, "crop should drop signal-free edges of the 10 ppm window"


@pytest.mark.parametrize(
    "kind, roles, expected",
    [
        ("t1_sr", ["delay"], ("saturation_recovery",)),
        ("t2_cpmg", ["echo"], ("exponential",)),
        ("diffusion", ["b_value"], ("diffusion",)),
        ("t1_t2", ["delay", "echo"], ("inversion_recovery", "exponential")),
        ("t1_ir", ["temperature", "delay"], ("identity", "inversion_recovery")),
    ],
)
def test_kernels_follow_kind_and_axis_roles(kind, roles, expected):
    shape = [6] * len(roles)
    axes = []
    for role in roles:
        vals = {"b_value": np.linspace(0, 2e9, 6), "temperature": np.linspace(280, 330, 6)}
        axes.append(Axis(role, vals.get(role, np.geomspace(0.01, 2, 6)), "s", role))
    amp = np.ones(shape + [1])
    data = fids(amp, [3.0], n=256, noise=0.01)
    prob = process(experiment(data, axes, kind))
    assert prob.kernels == expected + ("identity",)
    json.dumps(prob.choices)  # every choice is recorded in a JSON-serialisable form


def test_unknown_kind_with_delays_says_what_to_set():
    exp = ir_experiment()
    exp = Experiment(exp.data, exp.axes, exp.meta, exp.source, "unknown", ())
    with pytest.raises(ProcessingError, match=r"kind"):
        process(exp)
    assert process(exp, kernels=["saturation_recovery"]).kernels[0] == "saturation_recovery"


def test_tau_grid_rule_one_decade_beyond_and_capped():
    prob = process(ir_experiment(), points_per_decade=8, extend_decades=1.0, max_tau_points=20)
    tau = prob.tau[0]
    assert tau.size == 20
    assert tau.min() == pytest.approx(0.005 / 10) and tau.max() == pytest.approx(10.0 * 10)
    assert prob.choices["tau_grids"][0]["points"] == 20


def test_default_tau_grid_is_fine():
    """Default grid: 12 points per decade with one inverted dimension (issue 9; the old
    8 per decade capped at 32 points reported a T1 of 0.5 s as 0.42 or 0.61 s)."""
    prob = process(ir_experiment())
    step = np.diff(np.log10(prob.tau[0]))
    np.testing.assert_allclose(step, 1 / 12, rtol=0.02)  # whole number of steps
    assert prob.choices["tau_grids"][0]["points_per_decade"] == 12


def test_one_dimensional_experiment_is_refused():
    data = fids(np.array([1.0]), [3.0], n=128)
    with pytest.raises(ProcessingError, match="nothing to invert"):
        process(experiment(data, [], "unknown"))


def test_processed_spectra_are_used_without_ft_or_phase():
    ppm = np.linspace(10, 0, 400)
    vd = np.geomspace(0.01, 5, 8)
    line = 1.0 / (1 + ((ppm - 3.0) / 0.02) ** 2)
    rng = np.random.default_rng(0)
    data = (1 - 2 * np.exp(-vd / 0.5))[:, None] * line[None, :] * 100
    data = data + rng.standard_normal(data.shape)
    axes = (Axis("vd", vd, "s", "delay"), Axis("F2", ppm, "ppm", "chemical_shift"))
    exp = Experiment(data, axes, {"processed": True}, Path("/p"), "t1_ir", ())
    prob = process(exp)
    assert prob.choices["phase"]["method"].startswith("none")
    assert prob.sigma == pytest.approx(1.0, rel=0.2)
    assert prob.data.shape[0] == 8 and abs(prob.dims[-1].ppm[np.argmax(prob.data[-1])] - 3) < 0.1


def test_experiment_without_relaxation_axis_is_refused():
    data = fids(np.ones((5, 1)), [3.0], n=128)
    exp = experiment(data, [Axis("nt", np.arange(5), "", "index")], "unknown")
    with pytest.raises(ProcessingError, match="no dimension to invert"):
        process(exp)


def test_intensity_tables_estimate_noise_from_second_differences():
    """A decay sampled at 40 delays (text reader output): sigma from second differences."""
    te = np.linspace(0.001, 0.4, 40)
    rng = np.random.default_rng(3)
    decay = 100 * np.exp(-te / 0.1) + rng.standard_normal(te.size)
    exp = Experiment(decay, (Axis("te", te, "s", "echo"),), {}, Path("/t.csv"), "t2_cpmg", ())
    prob = process(exp)
    assert prob.kernels == ("exponential",)
    assert prob.sigma == pytest.approx(1.0, rel=0.35)
    assert process(exp, noise_sigma=2.0).sigma == 2.0
    np.testing.assert_allclose(process(exp, noise_sigma=2.0).data, decay / 2.0)


@pytest.mark.parametrize("lb", [0.0, 6.0])
def test_summed_points_have_unit_noise_also_with_line_broadening(lb):
    """Signal-free columns of the scaled data have std 1 whether or not neighbours are
    correlated by line broadening (15 % tolerance: ~300 noise values)."""
    exp = ir_experiment(noise=0.2)
    prob = process(exp, line_broadening_hz=lb, crop=[-1.0, 9.0], max_shift_points=24)
    ppm = prob.dims[-1].ppm
    free = (np.abs(ppm - 2.0) > 0.8) & (np.abs(ppm - 6.0) > 0.8)
    assert np.std(prob.data[:, free]) == pytest.approx(1.0, rel=0.15)


def test_auto_line_broadening_only_for_truncated_fids():
    from nmrilt.processing import auto_line_broadening

    decayed = fids(np.array([1.0]), [3.0], n=2048, linewidth_hz=4.0)   # ends at 1.6e-3
    truncated = fids(np.array([1.0]), [3.0], n=256, linewidth_hz=4.0)  # ends at 45 %
    assert auto_line_broadening(decayed, SW_HZ) == 0.0
    lb = auto_line_broadening(truncated, SW_HZ)
    aq = 256 / SW_HZ
    # total decay rate brings the end envelope to 0.3 %: (4 + lb) * pi * aq = ln(1/0.003)
    assert (4.0 + lb) * np.pi * aq == pytest.approx(np.log(1 / 0.003), rel=0.1)


@pytest.mark.parametrize("n, lb", [(256, "auto"), (1024, 0.0)])
def test_processed_noise_has_unit_std_for_known_time_domain_sigma(n, lb):
    """High signal-to-noise (10^4 in the spectrum: Lorentzian tails above the noise across
    the window), truncated FIDs (n = 256: automatic line broadening): the noise left in the
    processed data, ``noisy - clean`` processed with the same choices, has std 1 (10 %)."""
    sigma_t = 2e-4
    clean = ir_experiment(noise=0.0, n=n, seed=5)
    noisy = ir_experiment(noise=sigma_t, n=n, seed=5)
    prob = process(noisy, line_broadening_hz=lb)
    ch = prob.choices
    same = dict(phase=[ch["phase"]["p0_deg"], ch["phase"]["p1_deg"]],
                line_broadening_hz=ch["line_broadening_hz"]["value"],
                crop=sorted(ch["shift"]["crop_ppm"]), noise_sigma=prob.sigma, baseline="none")
    ref = process(clean, **same)
    again = process(noisy, **same)
    assert again.data.shape == ref.data.shape
    assert np.std(again.data - ref.data) == pytest.approx(1.0, rel=0.1)
    # and the estimate itself matches the analytic value sigma_t * sqrt(sum w^2)
    w = np.exp(-np.pi * ch["line_broadening_hz"]["value"] * np.arange(n) / SW_HZ)
    w[0] *= 0.5
    assert prob.sigma == pytest.approx(sigma_t * np.sqrt(np.sum(w**2)), rel=0.1)


def test_noise_folded_by_bruker_filter_removal_is_unit_variance():
    """nmrglue's ``rm_dig_filter`` (Bruker reader) adds the last ~63 points onto the first
    ones: their noise variance doubles.  With line broadening those points dominate a
    spectrum point's noise (10 Hz: +27 % std); processed ``noisy - clean`` still has std 1."""
    import dataclasses

    import nmrglue as ng

    g, n = 67.9842376708984, 1024  # FIDs decayed: no wrap-around artefact from the shift
    clean = ir_experiment(noise=0.0, n=n, seed=5)
    rng = np.random.default_rng(7)
    raw = ng.proc_base.fsh2(clean.data.astype(complex), -g)
    noise = 2e-4 * (rng.standard_normal(raw.shape) + 1j * rng.standard_normal(raw.shape))

    def bruker_like(fid):
        data = ng.bruker.rm_dig_filter(fid, 1664, 20, g, False)
        exp = experiment(data, list(clean.axes[:-1]), "t1_ir")
        return dataclasses.replace(exp, meta={**exp.meta, "group_delay_points": g})

    noisy, ref_exp = bruker_like(raw + noise), bruker_like(raw)
    prob = process(noisy, line_broadening_hz=10.0)
    assert prob.choices["folded_filter_points"] == 63
    ch = prob.choices
    same = dict(phase=[ch["phase"]["p0_deg"], ch["phase"]["p1_deg"]],
                line_broadening_hz=ch["line_broadening_hz"]["value"],
                crop=sorted(ch["shift"]["crop_ppm"]), noise_sigma=prob.sigma, baseline="none")
    diff = process(noisy, **same).data - process(ref_exp, **same).data
    assert np.std(diff) == pytest.approx(1.0, rel=0.1)


def test_points_mode_keeps_tight_regions_around_each_peak():
    prob = process(ir_experiment(noise=1e-3))
    regions = prob.choices["shift"]["regions_ppm"]
    assert len(regions) == 2
    for (lo, hi), centre in zip(sorted(map(sorted, regions)), (2.0, 6.0)):
        assert lo < centre < hi and hi - lo < 0.6
    ppm = prob.dims[-1].ppm
    assert not np.any((ppm > 2.6) & (ppm < 5.4)), "empty stretch between the peaks kept"


def test_pseudo3d_example_reaches_the_solver_at_unit_noise():
    """The bundled example's noise (known: ``noise_std_int`` per channel in the ser file)
    is recovered within 10 % although its spectrum has a signal-to-noise ratio of ~4·10^4."""
    root = Path(__file__).resolve().parents[1] / "example_datasets"
    folder = root / "bruker_t1t2_pseudo3d"
    if not folder.is_dir():
        pytest.skip("example dataset absent")
    from nmrilt.readers import read

    truth = json.loads((root / "bruker_t1t2_pseudo3d.truth.json").read_text())
    exp = read(folder)
    prob = process(exp)
    n = exp.data.shape[-1]
    lb = prob.choices["line_broadening_hz"]["value"]
    w = np.exp(-np.pi * lb * np.arange(n) / exp.meta["sw_hz"])
    w[0] *= 0.5
    # the digital-filter removal adds the last points onto the first ones: doubled variance
    w[: folded_points(exp.meta["group_delay_points"], n)] *= np.sqrt(2.0)
    expected = truth["noise_std_int"] * np.sqrt(np.sum(w**2))
    assert prob.sigma == pytest.approx(expected, rel=0.1)
    # tight regions: one per true peak, the empty stretches between them dropped
    regions = prob.choices["shift"]["regions_ppm"]
    assert len(regions) == len(truth["peaks"])
    for (lo, hi), peak in zip(sorted(map(sorted, regions)), truth["peaks"]):
        assert lo < peak["ppm"] < hi


def test_misspelled_processing_keyword_names_the_closest_setting():
    words = r"argument.*processing\.max_shift_point.*'max_shift_points'"
    with pytest.raises(ConfigError, match=words):
        process(ir_experiment(), max_shift_point=8)


def _with_vendor(exp, **vendor):
    """``exp`` with the reader's neutral ``meta["vendor_processing"]``."""
    return Experiment(exp.data, exp.axes, dict(exp.meta, vendor_processing=vendor),
                      exp.source, exp.kind, exp.files)


def test_auto_phase_takes_the_stored_vendor_phase_and_says_so():
    exp = ir_experiment(p0_deg=200.0, p1_deg=30.0)
    stored = _with_vendor(exp, phase_deg=(200.0, 30.0), phase_source="procs PHC0 (pdata/1)")
    ph = process(stored).choices["phase"]
    assert (ph["p0_deg"], ph["p1_deg"], ph["method"]) == (200.0, 30.0, "procs PHC0 (pdata/1)")
    assert "p1_limit_deg" not in ph  # no fit, no bound
    # the stored phase wins over the fit even when the fit would differ...
    wrong = _with_vendor(exp, phase_deg=(230.0, 30.0), phase_source="procs")
    assert process(wrong).choices["phase"]["p0_deg"] == 230.0
    # ...and phase = "fit" ignores it
    fitted = process(wrong, phase="fit").choices["phase"]
    assert fitted["method"].startswith("auto") and abs(fitted["p0_deg"] - 200.0) < 8.0


def test_stored_vendor_phase_is_turned_so_the_reference_increment_is_positive():
    exp = ir_experiment(p0_deg=200.0, p1_deg=30.0)
    prob = process(_with_vendor(exp, phase_deg=(20.0, 30.0), phase_source="procs"))
    assert prob.choices["phase"]["p0_deg"] == 200.0
    col = prob.data[:, _col(prob, 2.0)]
    assert col[0] < 0 < col[-1]


def test_without_a_stored_phase_auto_is_the_fit():
    exp = _with_vendor(ir_experiment(), phase_deg=None, phase_source="procs PH_mod = 0")
    assert process(exp).choices["phase"]["method"].startswith("auto")


@pytest.mark.parametrize(
    "setting, vendor, value, how",
    [
        ("auto", {"window": "exponential", "line_broadening_hz": 7.0,
                  "line_broadening_source": "procs LB = 7 Hz"}, 7.0, "procs LB = 7 Hz"),
        ("truncation", {"window": "exponential", "line_broadening_hz": 7.0}, 0.0, "auto"),
        ("auto", {"window": "none", "line_broadening_hz": None}, 0.0, "auto"),
        ("auto", {"window": "gaussian", "line_broadening_hz": None}, 0.0, "auto"),
        (2.0, {"window": "exponential", "line_broadening_hz": 7.0}, 2.0, "given"),
    ],
)
def test_line_broadening_takes_the_stored_exponential_window_only_when_auto(
    setting, vendor, value, how
):
    exp = _with_vendor(ir_experiment(n=2048), **vendor)  # FID decayed: the rule gives 0
    lb = process(exp, line_broadening_hz=setting).choices["line_broadening_hz"]
    assert lb["value"] == value and lb["how"].startswith(how)
