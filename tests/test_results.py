"""result.h5 round trip, atomic writes, components / peaks.csv, report."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Mapping

import h5py
import numpy as np
import pytest
from pipeline_helpers import small_result

from nmrilt.errors import OutputError
from nmrilt.output import (
    atomic_path,
    components,
    read_result,
    report_text,
    sha256,
    write_h5,
    write_peaks_csv,
)


@pytest.mark.parametrize("kind", ["1d", "2d", "pseudo3d"])
def test_h5_round_trip_keeps_every_array_label_and_attribute(tmp_path, kind):
    res = small_result(kind)
    path = write_h5(res, tmp_path / "result.h5")
    back = read_result(path)
    for name in ("g", "fit", "residuals", "data", "scale", "convergence"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    for a, b in zip(back.tau, res.tau):
        np.testing.assert_array_equal(a, b)
    assert [(d.name, d.unit, d.kernel, d.role, d.t_name) for d in back.dims] == [
        (d.name, d.unit, d.kernel, d.role, d.t_name) for d in res.dims]
    assert back.parameters == res.parameters and back.checksums == res.checksums
    assert (back.converged, back.iterations, back.message, back.elapsed_s) == (
        res.converged, res.iterations, res.message, res.elapsed_s)
    assert back.sigma == res.sigma
    assert back.path == tmp_path
    with h5py.File(path) as f:
        assert {"nmrilt_version", "created", "source", "parameters", "checksums"} <= set(f.attrs)
        assert f["tau_0"].attrs["name"] == "T1" and f["tau_0"].attrs["unit"] == "s"
        json.loads(f.attrs["parameters"])


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    res = small_result("2d")
    target = tmp_path / "result.h5"
    write_h5(res, target)
    before = sha256(target)

    def broken(self, name, *args, **kwargs):
        if name == "residuals":
            raise OSError("disk full")
        return original(self, name, *args, **kwargs)

    original = h5py.Group.create_dataset
    monkeypatch.setattr(h5py.Group, "create_dataset", broken)
    with pytest.raises(OSError, match="disk full"):
        write_h5(res, target)
    assert sha256(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.h5"]


def test_atomic_path_publishes_only_on_success(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"


def test_read_result_errors_are_clear(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        read_result(tmp_path / "nope.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(OutputError, match="not an nmrilt result"):
        read_result(tmp_path / "other.h5")


def test_components_find_both_signed_blobs_at_their_centres():
    res = small_result("2d")
    comps = components(res, threshold=0.05)
    assert [c["sign"] for c in comps] == ["+", "-"]
    pos, neg = comps
    assert pos["T1_mean_log10_s"] == pytest.approx(-1.0, abs=0.05)
    assert pos["T2_mean_log10_s"] == pytest.approx(-2.0, abs=0.05)
    assert neg["T1_mean_log10_s"] == pytest.approx(0.5, abs=0.05)
    # integral in spectrum units: sum(g) * scale (scale = 2)
    above = res.g > 0.05 * np.max(np.abs(res.g))
    assert pos["integral_au"] == pytest.approx(2.0 * np.sum(res.g[above]), rel=1e-9)
    # fractions are of all components, listed and minor: each kind sums to 100 %
    listed, minor = components(res, threshold=0.05, with_minor=True)
    every = listed + minor
    assert sum(c["fraction_abs_pct"] for c in every) == pytest.approx(100.0, abs=1e-9)
    assert sum(c["fraction_signed_pct"] for c in every) == pytest.approx(100.0, abs=1e-9)
    total = sum(c["integral_au"] for c in every)
    assert pos["fraction_signed_pct"] == pytest.approx(100 * pos["integral_au"] / total)
    assert neg["fraction_signed_pct"] < 0 < pos["fraction_signed_pct"]
    # the estimator is named: logmean is the antilog of the weighted mean log10
    assert pos["T1_logmean_s"] == pytest.approx(10 ** pos["T1_mean_log10_s"], rel=1e-12)


def test_components_in_pseudo3d_carry_the_chemical_shift():
    comps = components(small_result("pseudo3d"))
    shifts = sorted(round(c["shift_mean_ppm"]) for c in comps)
    assert shifts == [2, 6]


def test_peaks_csv_and_report(tmp_path):
    res = small_result("pseudo2d")
    path = write_peaks_csv(res, tmp_path / "peaks.csv")
    rows = list(csv.DictReader(path.open()))
    # two T1 blobs times two opposite-signed lines: four components, two of each sign
    assert len(rows) == 4
    assert {"component", "sign", "integral_au", "fraction_abs_pct", "fraction_signed_pct",
            "T1_logmean_s", "T1_mean_log10_s", "T1_width_decades", "shift_mean_ppm"} <= set(rows[0])
    assert not any(k.startswith("_") for k in rows[0])  # the support masks stay in memory
    assert sorted(r["sign"] for r in rows) == ["+", "+", "-", "-"]
    assert sorted(round(float(r["shift_mean_ppm"])) for r in rows) == [2, 2, 6, 6]
    text = report_text(res)
    for needle in ("source:", "T1 [s]", "shift [ppm]", "converged=True", "SHA-256", "ser"):
        assert needle in text


def test_small_ripples_are_left_out_per_region_but_signed_peaks_stay(tmp_path):
    """Region A (2 ppm): a peak and a -8 % ripple beside it; region B (6 ppm, after a gap):
    a peak 20x weaker than A's, negative.  The ripple goes (below 10 % of its region's
    strongest), B's weak negative peak stays (it is the strongest of its region)."""
    from dataclasses import replace

    res = small_result("pseudo2d")
    t1 = res.tau[0]
    ppm = np.concatenate([np.linspace(1.8, 2.2, 5), np.linspace(5.8, 6.2, 5)])
    lt = np.log10(t1)[:, None]
    peak = np.exp(-((lt + 1) ** 2) / 0.05)
    ripple = np.exp(-((lt - 0.5) ** 2) / 0.05)
    g = np.zeros((t1.size, ppm.size))
    g[:, :5] = 1.0 * peak - 0.08 * ripple
    g[:, 5:] = -0.05 * peak
    dim = replace(res.dims[1], ppm=ppm)
    inv = replace(res.inversion, g=g, tau=(t1, ppm), t=(res.t[0], ppm), data=np.zeros((8, 10)),
                  fit=np.zeros((8, 10)), residuals=np.zeros((8, 10)))
    res = replace(res, inversion=inv, dims=(res.dims[0], dim))
    listed, minor = components(res, threshold=0.1, with_minor=True)
    assert [c["sign"] for c in listed] == ["+", "-"]
    assert abs(listed[1]["shift_mean_ppm"] - 6.0) < 0.05 and listed[1]["group"] == "1"
    assert len(minor) == 1 and minor[0]["sign"] == "-"
    text = report_text(res, 0.1)
    assert "1 minor (not in peaks.csv)" in text


def _assert_same(a, b, where):
    """Equal values, arrays compared exactly, mappings and sequences element by element."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert a.shape == b.shape, where
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping) and set(a) == set(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def _full_result():
    """A pseudo-2D result with every field of Result and Inversion set to a non-default."""
    res = small_result("pseudo2d")
    inv = dataclasses.replace(
        res.inversion,
        iterations=17, converged=False, message="stopped: max_iter=17 reached",
        baseline=np.array([[0.25, -0.5, 0.125] + [0.0] * 13]),
        options={"alpha_00": 2.0, "tol": 1e-3, "axis_weights": [1.0, 0.3], "g0": None},
        elapsed_s=1.75,
        stats={"solver_path": "cg", "cg_iterations": [3, 5], "n_unknowns": 320,
               "residual_std": 0.97, "alpha_00_used": 0.3125},
    )
    return dataclasses.replace(
        res, inversion=inv, warnings=("NmriltWarning: vdlist has 1 extra delay",),
        parameters={"settings": {"output": {"formats": ["png"]}, "inversion": {"tol": 1e-3}},
                    "choices": {"phase": {"p0": 12.5}, "kernels": ["inversion_recovery"]},
                    "meta": {"nucleus": "1H"}},
        sigma=3.5, scale=np.array([[1.0, 2.0] * 8]), source="/data/study/7", kind="t1_ir",
        created="2026-12-01T08:00:00+00:00", version="9.9.9",
        checksums={"ser": "a" * 64, "acqus": "b" * 64},
    )


def test_every_field_of_the_result_survives_write_and_read(tmp_path):
    res = _full_result()
    back = read_result(write_h5(res, tmp_path / "result.h5"))
    for f in dataclasses.fields(res):
        if f.name != "path":
            _assert_same(getattr(res, f.name), getattr(back, f.name), f"result.{f.name}")
    assert back.path == tmp_path
    assert back.stats["alpha_00_used"] == 0.3125
    assert back.warnings == ("NmriltWarning: vdlist has 1 extra delay",)


def test_the_round_trip_check_notices_a_lost_field(tmp_path):
    """The comparison above is strict: a result differing in one stats entry fails it."""
    res = _full_result()
    other = dataclasses.replace(res, inversion=dataclasses.replace(
        res.inversion, stats={**res.inversion.stats, "alpha_00_used": 0.5}))
    with pytest.raises(AssertionError, match="alpha_00_used"):
        _assert_same(res, other, "result")


def test_result_h5_keeps_the_names_external_tools_read(tmp_path):
    res = _full_result()
    with h5py.File(write_h5(res, tmp_path / "result.h5")) as f:
        np.testing.assert_array_equal(f["g"][()], res.g)
        assert [f[f"tau_{i}"].attrs["unit"] for i in range(2)] == ["s", "ppm"]
        assert bool(f.attrs["converged"]) is False
        assert json.loads(f.attrs["stats"])["alpha_00_used"] == 0.3125
        np.testing.assert_array_equal(f["baseline"][()], res.baseline)


def test_results_of_nmrilt_0_1_are_read_with_their_options_and_warnings(tmp_path):
    """nmrilt 0.1 kept the solver options and the warnings inside ``parameters``."""
    res = _full_result()
    path = write_h5(res, tmp_path / "result.h5")
    with h5py.File(path, "r+") as f:
        params = json.loads(f.attrs["parameters"])
        params["solver"] = json.loads(f.attrs["options"])
        params["warnings"] = json.loads(f.attrs["warnings"])
        f.attrs["parameters"] = json.dumps(params)
        for key in ("options", "stats", "warnings"):
            del f.attrs[key]
        del f["baseline"]
    back = read_result(path)
    _assert_same(back.options, res.options, "options")
    assert back.warnings == res.warnings
    assert set(back.parameters) == {"settings", "choices", "meta"}
    assert dict(back.stats) == {} and back.baseline is None


def test_result_is_immutable_and_its_mappings_are_read_only():
    res = _full_result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.sigma = 1.0
    with pytest.raises(TypeError):
        res.parameters["warnings"] = []
    with pytest.raises(TypeError):
        res.parameters["choices"]["phase"]["p0"] = 0.0
    with pytest.raises(TypeError):
        res.stats["alpha_00_used"] = 1.0
    assert isinstance(res.warnings, tuple)


def test_result_refuses_dims_whose_kernels_differ_from_the_inversion():
    res = small_result("2d")
    wrong = (dataclasses.replace(res.dims[0], kernel="exponential"), res.dims[1])
    with pytest.raises(ValueError, match="kernels"):
        dataclasses.replace(res, dims=wrong)


def test_width_is_the_weighted_sd_of_log10_tau():
    """A log-normal blob of known spread in T2 (one T1 row): its width in decades is
    sigma, less what the 5 % support level trims (computed here exactly)."""
    from dataclasses import replace

    res = small_result("2d")
    t1, t2 = res.tau
    lt2 = np.log10(t2)
    sigma = 0.2
    line = np.exp(-0.5 * ((lt2 + 2.0) / sigma) ** 2)
    g = np.zeros((t1.size, t2.size))
    g[t1.size // 2] = line
    res = replace(res, inversion=replace(res.inversion, g=g))
    (comp,) = components(res, threshold=0.05)
    keep = line > 0.05
    w = line[keep]
    mean = np.sum(w * lt2[keep]) / w.sum()
    expected = np.sqrt(np.sum(w * (lt2[keep] - mean) ** 2) / w.sum())
    assert comp["T2_width_decades"] == pytest.approx(expected, rel=1e-6)
    assert 0.7 * sigma < comp["T2_width_decades"] < sigma  # the trimmed flanks
    assert comp["T1_width_decades"] == pytest.approx(0.0, abs=1e-12)  # one grid point
    assert comp["fraction_abs_pct"] == pytest.approx(100.0)


def test_column_providers_add_columns_and_a_failing_one_is_skipped(tmp_path, caplog):
    from nmrilt.output.columns import register_column_provider, unregister_column_provider

    res = small_result("2d")

    def support_points(result, rows):
        return [{"support_points": int(r["_mask"].sum())} for r in rows]

    def broken(result, rows):
        raise RuntimeError("no luck")

    def clashing(result, rows):
        return [{"sign": "?"} for _ in rows]

    register_column_provider("test-support", support_points)
    try:
        path = write_peaks_csv(res, tmp_path / "peaks.csv", threshold=0.05,
                               extra_columns={"broken": broken, "clashing": clashing})
    finally:
        unregister_column_provider("test-support")
    rows = list(csv.DictReader(path.open()))
    listed = components(res, threshold=0.05)
    assert [int(r["support_points"]) for r in rows] == [int(c["_mask"].sum()) for c in listed]
    assert [r["sign"] for r in rows] == ["+", "-"]  # the clash changed nothing
    assert "broken skipped: no luck" in caplog.text and "clashing skipped" in caplog.text
    # unregistered: gone from the next file
    rows = list(csv.DictReader(write_peaks_csv(res, tmp_path / "p2.csv", 0.05).open()))
    assert "support_points" not in rows[0]


def test_report_numbers_are_rounded():
    import re

    res = small_result("pseudo2d")
    text = report_text(res)
    # no float with more than 6 significant digits anywhere (no 16-digit JSON floats)
    long_floats = re.findall(r"\d+\.\d{7,}", text)
    assert long_floats == []
    assert "% abs" in text and "% signed" in text and "logmean" in text
