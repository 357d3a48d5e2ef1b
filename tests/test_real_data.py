"""Default runs on the real experiments of ../shared/datasets against their independent
reference values (references.json: TopSpin's fits or exponential fits on TopSpin's rows).

Tolerance: a peak is a hit within 10 % of its reference (the issue's yardstick).  Each
dataset must keep at least the hits measured when the noise model landed (docs/real_data.md):
a floor against regressions, not the goal (>= 90 % overall is the goal; on these
references at most 14/17 is reachable, see benchmarks/audit_references.py).
"""

import json
import shutil

import numpy as np
import pytest
from conftest import SHARED_DATASETS, shared_dataset

import nmrilt
from nmrilt.output.hdf5 import read_result
from nmrilt.pipeline import run

pytestmark = pytest.mark.shared

#: Reference peaks within 10 % measured on 2 Dec 2026 (docs/real_data.md).
FLOOR = {
    "nmrtools_project_t2": 6,
    "nmrtools_xste_diffusion": 3,
    "dnplab_15n_t1_304": 1,
    "dnplab_t1_28": 1,
    "dnplab_t1_29": 1,
}


def _value(tau: np.ndarray, g1: np.ndarray) -> float:
    """|g|-weighted geometric mean of tau over the largest same-sign lobe of ``g1``."""
    sign = np.sign(g1)
    edges = np.flatnonzero(np.diff(sign)) + 1
    lobes = [(a, b) for a, b in zip(np.r_[0, edges], np.r_[edges, g1.size]) if sign[a] != 0]
    a, b = max(lobes, key=lambda ab: np.abs(g1[ab[0]:ab[1]]).sum())
    w = np.abs(g1[a:b])
    return float(10 ** (np.sum(w * np.log10(tau[a:b])) / w.sum()))


@pytest.mark.parametrize("name", sorted(FLOOR))
def test_default_run_meets_the_references(name, tmp_path):
    refs = json.loads((SHARED_DATASETS / "references.json").read_text())["datasets"][name]
    exp = tmp_path / name
    shutil.copytree(shared_dataset(name), exp)
    if refs.get("user_config"):
        (exp / "nmrilt.toml").write_text(refs["user_config"])
    run(exp, out=tmp_path / "out", progress=False)
    result = read_result(tmp_path / "out" / "result.h5")
    assert result.converged
    ti = next(i for i, d in enumerate(result.dims) if d.inverted)
    pi = next(i for i, d in enumerate(result.dims) if d.unit == "ppm")
    tau, ppm = np.asarray(result.tau[ti]), np.asarray(result.tau[pi])
    g = np.moveaxis(result.g, [ti, pi], [0, 1]).reshape(tau.size, ppm.size, -1).sum(-1)
    hits = 0
    for peak in refs["peaks"]:
        cols = np.abs(ppm - peak["ppm"]) <= peak["half_width_ppm"]
        if cols.any():
            hits += abs(_value(tau, g[:, cols].sum(1)) / peak["value"] - 1) <= 0.10
    assert hits >= FLOOR[name]


def test_topspin_phase_reproduces_the_2rr_rows_of_the_xste_set():
    """The stored phase in nmrilt's convention (p0 = -(PHC0 + PHC1), p1 = PHC1), with
    TopSpin's exponential window, zero-filling and orientation, gives TopSpin's 2rr rows
    up to a scale and a constant (TopSpin does not halve the first point) away from the
    water line (its FID filter, BC_mod = qfil, is not reproduced): 12 % relative residual
    (the rest is the filter's baseline), against 39 % with the sign of PHC0 turned."""
    import nmrglue as ng

    from nmrilt.processing import phase_shift

    folder = shared_dataset("nmrtools_xste_diffusion")
    exp = nmrilt.read(folder)
    vendor = exp.meta["vendor_processing"]
    pdic, rr = ng.bruker.read_pdata(str(folder / "pdata" / "1"), read_acqus=False)
    procs = pdic["procs"]
    si = int(procs["SI"])
    ppm_ts = float(procs["OFFSET"]) - np.arange(si) * float(procs["SW_p"]) / float(procs["SF"]) / si
    fid = np.asarray(exp.data)[0]
    sw, n = exp.meta["sw_hz"], fid.size
    window = np.exp(-np.pi * vendor["line_broadening_hz"] * np.arange(n) / sw)
    spec = np.fft.fftshift(np.fft.fft(fid * window, si))
    ppm = exp.meta["carrier_ppm"] + np.fft.fftshift(np.fft.fftfreq(si, 1.0 / sw)) / exp.meta["sfo1_mhz"]
    shift = round((ppm[-1] - ppm_ts[0]) / (ppm_ts[0] - ppm_ts[1]))
    row = np.roll(np.asarray(rr, float).reshape(-1, si)[0], shift)
    keep = np.abs(ppm_ts - 4.7) > 1.0

    def residual(p0, p1):
        x = phase_shift(spec, p0, p1)[::-1].real
        design = np.c_[x[keep], np.ones(keep.sum())]
        coef = np.linalg.lstsq(design, row[keep], rcond=None)[0]
        return np.linalg.norm(row[keep] - design @ coef) / np.linalg.norm(row[keep])

    p0, p1 = vendor["phase_deg"]
    assert residual(p0, p1) < 0.15
    assert residual(-p0, p1) > 2 * residual(p0, p1)
