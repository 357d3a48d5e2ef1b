"""Varian/Agilent VnmrJ reader on the example dataset and modified copies."""

from __future__ import annotations

from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest
from conftest import EXAMPLES, copy_example
from conftest import truth as example_truth

import nmrilt
from nmrilt.errors import ReadWarning, TruncatedDataError
from nmrilt.readers.varian import split_array

NAME = "varian_t1_arrayed.fid"


def truth() -> dict:
    return example_truth(NAME)


def test_arrayed_d2_becomes_delay_axis_in_seconds():
    exp = nmrilt.read(EXAMPLES / NAME)
    tr = truth()
    assert exp.kind == "t1_ir"
    ax = exp.axes[0]
    assert (ax.name, ax.role, ax.unit) == ("d2", "delay", "s")
    np.testing.assert_allclose(ax.values, tr["axes"][0]["values"], rtol=1e-12)
    assert exp.data.shape == (12, 1000)
    assert exp.meta["vendor"] == "varian"
    assert exp.meta["sw_hz"] == pytest.approx(tr["sw_hz"], rel=1e-9)
    assert exp.meta["sfo1_mhz"] == pytest.approx(tr["sfo1_mhz"], rel=1e-9)
    assert exp.meta["carrier_ppm"] == pytest.approx(tr["carrier_ppm"], abs=1e-6)
    assert exp.meta["te_k"] == pytest.approx(298.15)
    assert exp.axes[-1].role == "direct"


def test_varian_lines_sit_at_true_ppm_with_clean_phase():
    exp = nmrilt.read(EXAMPLES / NAME)
    fid = exp.data[-1].copy()
    fid[0] *= 0.5
    n = 8192
    spec = np.fft.fftshift(np.fft.fft(fid, n=n))
    ppm = exp.meta["carrier_ppm"] + np.fft.fftshift(np.fft.fftfreq(n, 1 / exp.meta["sw_hz"])) / \
        exp.meta["sfo1_mhz"]
    for peak in truth()["peaks"]:
        window = np.abs(ppm - peak["ppm"]) < 0.05
        i = np.flatnonzero(window)[np.argmax(np.abs(spec[window]))]
        assert ppm[i] == pytest.approx(peak["ppm"], abs=0.003)
        assert spec[i].real / abs(spec[i]) > 0.99


@pytest.mark.parametrize(("text", "groups"), [
    ("d2", [["d2"]]),
    ("d2,gzlvl1", [["d2"], ["gzlvl1"]]),
    ("(d2,nt)", [["d2", "nt"]]),
    ("(d2,nt),gzlvl1", [["d2", "nt"], ["gzlvl1"]]),
    ("", []),
])
def test_split_array_groups_slowest_first(text, groups):
    assert split_array(text) == groups


def _rewrite(folder: Path, array: str, params: dict[str, list], data: np.ndarray) -> None:
    dic, _ = ng.varian.read(str(folder), as_2d=True)
    pp = dic["procpar"]
    pp["array"]["values"] = [array]
    for name, values in params.items():
        entry = dict(pp["d2"]) if name not in pp else pp[name]
        entry["name"] = name
        entry["values"] = [str(v) for v in values]
        pp[name] = entry
    dic["nblocks"] = data.shape[0]
    ng.varian.write(str(folder), dic, data.astype(np.complex64), overwrite=True)


def test_two_arrayed_parameters_give_two_axes(tmp_path):
    folder = copy_example(NAME, tmp_path / NAME)
    ref = nmrilt.read(folder)
    data = np.asarray(ref.data, dtype=np.complex64)  # 12 rows -> 3 (bigtau) x 4 (d2)
    _rewrite(folder, "bigtau,d2", {"bigtau": [0.01, 0.02, 0.04], "d2": [0.1, 0.2, 0.4, 0.8]},
             data)
    exp = nmrilt.read(folder)
    assert [a.role for a in exp.axes] == ["echo", "delay", "direct"]
    assert exp.data.shape == (3, 4, 1000)
    assert exp.kind == "t1_t2"
    np.testing.assert_allclose(exp.data[1, 2], data[6], rtol=1e-6)


def test_short_varian_fid_keeps_complete_rows(tmp_path):
    folder = copy_example(NAME, tmp_path / NAME)
    ref = nmrilt.read(folder)
    data = np.asarray(ref.data[:9], dtype=np.complex64)
    _rewrite(folder, "d2", {}, data)
    with pytest.warns(ReadWarning, match="holds 9 FIDs"):
        exp = nmrilt.read(folder)
    assert exp.data.shape == (9, 1000)
    np.testing.assert_allclose(exp.axes[0].values, ref.axes[0].values[:9])
    with pytest.raises(TruncatedDataError):
        nmrilt.read(folder, allow_partial=False)


def test_kind_override_for_varian(tmp_path):
    exp = nmrilt.read(EXAMPLES / NAME, kind="t1_sr")
    assert exp.kind == "t1_sr"


def test_gzlvl_array_with_gcal_del_gt1_gives_b_values(tmp_path):
    folder = copy_example(NAME, tmp_path / NAME)
    data = np.asarray(nmrilt.read(folder).data, dtype=np.complex64)
    levels = np.linspace(500, 30000, 12)
    gcal, big, small = 0.002, 0.1, 0.002  # G/cm per DAC unit, s, s
    _rewrite(folder, "gzlvl1", {"gzlvl1": levels, "gcal": [gcal], "del": [big],
                                "gt1": [small], "tau": [0.0]}, data)
    exp = nmrilt.read(folder)
    g = levels * gcal * 1e-2  # T/m
    expected = (267.5221874e6 * g * small) ** 2 * (big - small / 3)
    assert exp.kind == "diffusion" and exp.axes[0].role == "b_value"
    np.testing.assert_allclose(exp.axes[0].values, expected, rtol=1e-9)


def test_gzlvl_array_without_gcal_stays_in_dac_units(tmp_path):
    folder = copy_example(NAME, tmp_path / NAME)
    data = np.asarray(nmrilt.read(folder).data, dtype=np.complex64)
    _rewrite(folder, "gzlvl1", {"gzlvl1": np.arange(12) * 100}, data)
    exp = nmrilt.read(folder)
    assert exp.axes[0].role == "gradient" and exp.axes[0].unit == ""
