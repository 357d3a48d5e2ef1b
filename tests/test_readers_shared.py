"""Real public datasets in ../shared/datasets (skipped when the folder is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATASETS, shared_dataset

import nmrilt
from nmrilt.errors import UnknownPulseProgramError
from nmrilt.readers import describe

DNPLAB = SHARED_DATASETS / "dnplab_15n_t1_304"
NMRPY = SHARED_DATASETS / "nmrpy_varian_arrayed_nt" / "test1.fid"

pytestmark = pytest.mark.shared


def test_dnplab_unknown_pulse_program_says_exactly_what_to_add():
    shared_dataset("dnplab_15n_t1_304")
    with pytest.raises(UnknownPulseProgramError) as info:
        nmrilt.read(DNPLAB)
    msg = str(info.value)
    assert "'jf_fir'" in msg
    assert str(DNPLAB / "nmrilt.toml") in msg
    assert '[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]' in msg
    assert 'kind="t1_ir"' in msg
    assert not (DNPLAB / "nmrilt.toml").exists()  # the message suggests; nmrilt never writes


def test_dnplab_big_endian_t1_reads_with_kind_override():
    shared_dataset("dnplab_15n_t1_304")
    exp = nmrilt.read(DNPLAB, kind="t1_ir")
    raw = exp.meta["raw"]["acqus"]
    assert raw["BYTORDA"] == 1 and raw["DTYPA"] == 0 and raw["TD"] // 2 == 7983
    assert exp.kind == "t1_ir"
    # 7983 complex points; the DSPFVS 10 / DECIM 12 table delay (60.375) removes 62 more
    assert exp.data.shape == (8, 7983 - 62)
    assert exp.meta["group_delay_points"] == pytest.approx(60.375)
    vd = exp.axes[0]
    assert vd.role == "delay" and vd.unit == "s"
    np.testing.assert_allclose(
        vd.values, [0.02, 0.056854, 0.161616, 0.459422, 1.306, 3.713, 10.553, 30.0], rtol=1e-12)
    assert exp.meta["nucleus"] == "15N"
    assert exp.meta["sfo1_mhz"] == pytest.approx(14.83141327)
    assert exp.meta["title"].startswith("T1 with microwaves off")
    assert {p.name for p in exp.files} >= {"acqus", "acqu2s", "ser", "vdlist"}


def test_dnplab_data_match_nmrglue_after_padding_trim():
    shared_dataset("dnplab_15n_t1_304")
    import nmrglue as ng

    exp = nmrilt.read(DNPLAB, kind="t1_ir")
    dic, data = ng.bruker.read(str(DNPLAB))
    assert data.shape == (8, 8064)  # nmrglue keeps the block padding
    expected = ng.bruker.rm_dig_filter(data[:, :7983], 12, 10, -1, truncate_grpdly=False)
    np.testing.assert_allclose(exp.data, expected, rtol=1e-10, atol=1e-6)


def test_dnplab_toml_recipe_in_a_copy(tmp_path):
    shared_dataset("dnplab_15n_t1_304")
    import shutil

    copy = Path(shutil.copytree(DNPLAB, tmp_path / "304"))
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    copy.chmod(0o755)
    (copy / "nmrilt.toml").write_text('[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]\n')
    exp = nmrilt.read(copy)
    assert exp.kind == "t1_ir" and len(exp.axes[0]) == 8


def test_nmrpy_varian_arrayed_nt_is_an_index_axis():
    shared_dataset("nmrpy_varian_arrayed_nt/test1.fid")
    exp = nmrilt.read(NMRPY)
    assert exp.data.shape == (24, 15542)
    ax = exp.axes[0]
    assert (ax.name, ax.role, ax.unit) == ("nt", "index", "")
    np.testing.assert_array_equal(ax.values, np.arange(24))
    assert ax.meta["values"] == [12.0] * 24
    assert exp.kind == "unknown"
    assert exp.meta["nucleus"] == "31P" and exp.meta["pulse_program"] == "s2pul"
    assert exp.meta["sw_hz"] == pytest.approx(9713.45313259)
    assert "nt" in describe(exp)
