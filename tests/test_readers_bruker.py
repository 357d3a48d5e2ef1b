"""Bruker reader on the example datasets and on modified copies of them (tmp_path)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, copy_example, edit_jcamp, truth

import nmrilt
from nmrilt.errors import ReadWarning
from nmrilt.readers import describe

BRUKER = ["bruker_t1ir_pseudo2d", "bruker_t2cpmg_pseudo2d", "bruker_t1t2_pseudo3d",
          "bruker_diffusion_pseudo2d"]
GAMMA_1H = 267.5221874e6


def truth_axis(name: str, i: int = 0) -> list[float]:
    return truth(name)["axes"][i]["values"]


def raw_ints(folder: Path, td: int) -> np.ndarray:
    padded = -(-td // 256) * 256
    return np.fromfile(folder / "ser", dtype="<i4").reshape(-1, padded)


def spectrum_ppm(exp: nmrilt.Experiment, fid: np.ndarray, zf: int = 8192):
    """Independent FT: fftshift(fft); ppm = carrier + f / SFO1 (ascending)."""
    f = np.array(fid, dtype=complex)
    f[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(f, n=zf))
    freq = np.fft.fftshift(np.fft.fftfreq(zf, 1 / exp.meta["sw_hz"]))
    return spec, exp.meta["carrier_ppm"] + freq / exp.meta["sfo1_mhz"]


@pytest.mark.parametrize("name", BRUKER)
def test_example_axes_match_truth_exactly(name):
    exp = nmrilt.read(EXAMPLES / name)
    tr = truth(name)
    assert exp.kind == tr["kind"]
    indirect = exp.axes[:-1]
    assert len(indirect) == len(tr["axes"])
    for ax, ta in zip(indirect, tr["axes"]):
        assert (ax.name, ax.role, ax.unit) == (ta["name"], ta["role"], ta["unit"])
        np.testing.assert_allclose(ax.values, ta["values"], rtol=1e-12, atol=0)
    assert exp.data.shape[:-1] == tuple(len(a["values"]) for a in tr["axes"])


@pytest.mark.parametrize("name", BRUKER)
def test_example_meta_and_direct_axis(name):
    exp = nmrilt.read(EXAMPLES / name)
    tr = truth(name)
    for key in ("sw_hz", "sfo1_mhz", "bf1_mhz", "carrier_ppm"):
        assert exp.meta[key] == pytest.approx(tr[key], rel=1e-9)
    assert exp.meta["nucleus"] == "1H" and exp.meta["vendor"] == "bruker"
    assert exp.meta["processed"] is False and exp.meta["ns"] == 8
    direct = exp.axes[-1]
    assert direct.role == "direct" and direct.unit == "s"
    np.testing.assert_allclose(np.diff(direct.values), 1 / tr["sw_hz"], rtol=1e-9)
    # TD/2 complex points minus floor(GRPDLY + 2) removed by the digital-filter step
    td = exp.meta["raw"]["acqus"]["TD"]
    assert exp.data.shape[-1] == td // 2 - int(np.floor(67.9842376708984 + 2))
    assert np.iscomplexobj(exp.data)
    names = {p.name for p in exp.files}
    assert {"acqus", "acqu2s", "ser", "pulseprogram"} <= names
    assert all(p.is_file() for p in exp.files)


def test_filter_removed_lines_are_in_absorption_at_true_ppm():
    exp = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    spec, ppm = spectrum_ppm(exp, exp.data[-1])  # longest delay: all peaks positive
    for peak in truth("bruker_t1ir_pseudo2d")["peaks"]:
        window = np.abs(ppm - peak["ppm"]) < 0.05
        i = np.flatnonzero(window)[np.argmax(np.abs(spec[window]))]
        assert ppm[i] == pytest.approx(peak["ppm"], abs=0.003)
        assert spec[i].real / abs(spec[i]) > 0.99  # clean phase: delay fully removed


def test_inversion_shows_negative_lines_at_short_delay():
    exp = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    spec, ppm = spectrum_ppm(exp, exp.data[0])
    for peak in truth("bruker_t1ir_pseudo2d")["peaks"]:
        i = np.argmin(np.abs(ppm - peak["ppm"]))
        assert spec[i].real < 0


def test_vdlist_with_mixed_suffixes_is_kept_in_axis_meta():
    exp = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    assert exp.axes[0].meta["list_entries"] == truth("bruker_t1ir_pseudo2d")["lists"]["vdlist"]


def test_diffusion_b_values_follow_stejskal_tanner():
    exp = nmrilt.read(EXAMPLES / "bruker_diffusion_pseudo2d")
    g = np.array(truth("bruker_diffusion_pseudo2d")["lists"]["difflist_g_per_cm"]) * 1e-2
    delta, big = 2 * 1000e-6, 0.2  # delta = 2*P30 (bipolar), Delta = D20
    np.testing.assert_allclose(exp.axes[0].values,
                               (GAMMA_1H * g * delta) ** 2 * (big - delta / 3), rtol=1e-12)
    assert exp.axes[0].meta["big_delta"] == big


def test_diffusion_overrides_change_delta():
    exp = nmrilt.read(EXAMPLES / "bruker_diffusion_pseudo2d", big_delta=0.1, tau=1e-3)
    g = np.array(truth("bruker_diffusion_pseudo2d")["lists"]["difflist_g_per_cm"]) * 1e-2
    np.testing.assert_allclose(exp.axes[0].values,
                               (GAMMA_1H * g * 2e-3) ** 2 * (0.1 - 2e-3 / 3 - 0.5e-3), rtol=1e-12)


def test_pseudo3d_aqseq_321_puts_f1_vd_outermost():
    exp = nmrilt.read(EXAMPLES / "bruker_t1t2_pseudo3d")
    assert [a.role for a in exp.axes] == ["delay", "echo", "direct"]
    assert exp.meta["aqseq"] == "321"


def test_pseudo3d_aqseq_312_reorders_loops(tmp_path):
    folder = copy_example("bruker_t1t2_pseudo3d", tmp_path / "bruker_t1t2_pseudo3d")
    ref = nmrilt.read(EXAMPLES / "bruker_t1t2_pseudo3d")
    raw = raw_ints(folder, 1024).reshape(12, 12, -1)  # (vd, vc, points) as written (321)
    np.ascontiguousarray(raw.transpose(1, 0, 2)).tofile(folder / "ser")  # vc outer now
    edit_jcamp(folder / "acqus", AQSEQ=1)
    exp = nmrilt.read(folder)
    assert [a.name for a in exp.axes] == ["echo_time", "vd", "time"]
    assert exp.meta["aqseq"] == "312"
    np.testing.assert_allclose(exp.axes[0].values, ref.axes[1].values)
    np.testing.assert_allclose(exp.data, ref.data.transpose(1, 0, 2))


def test_truncated_ser_keeps_complete_rows_and_warns(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    raw = (folder / "ser").read_bytes()
    per_fid = 2048 * 4
    (folder / "ser").write_bytes(raw[: 7 * per_fid + per_fid // 3])
    with pytest.warns(ReadWarning, match="7 complete FIDs"):
        exp = nmrilt.read(folder)
    ref = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    assert exp.data.shape == (7, ref.data.shape[1])
    np.testing.assert_allclose(exp.axes[0].values, ref.axes[0].values[:7])
    np.testing.assert_allclose(exp.data, ref.data[:7])


def test_truncated_pseudo3d_keeps_complete_outer_planes(tmp_path):
    folder = copy_example("bruker_t1t2_pseudo3d", tmp_path / "bruker_t1t2_pseudo3d")
    raw = (folder / "ser").read_bytes()
    (folder / "ser").write_bytes(raw[: (3 * 12 + 5) * 4096])
    with pytest.warns(ReadWarning, match="keeping the first 36"):
        exp = nmrilt.read(folder)
    assert exp.data.shape[:2] == (3, 12)
    assert len(exp.axes[0]) == 3 and len(exp.axes[1]) == 12


def test_list_longer_than_td_is_truncated_with_warning(tmp_path):
    folder = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "bruker_t2cpmg_pseudo2d")
    with (folder / "vclist").open("a") as fh:
        fh.write("4096\n6000\n")
    with pytest.warns(ReadWarning, match="14 entries but acqu2s TD is 12"):
        exp = nmrilt.read(folder)
    np.testing.assert_allclose(exp.axes[0].values, truth_axis("bruker_t2cpmg_pseudo2d"))


def _rewrite_ser(folder: Path, td: int, dtype: str, per_block: int) -> None:
    ints = raw_ints(folder, td)[:, :td]
    padded = -(-td // per_block) * per_block
    out = np.zeros((ints.shape[0], padded), dtype=dtype)
    out[:, :td] = ints
    out.tofile(folder / "ser")


@pytest.mark.parametrize(("dtype", "dtypa", "bytorda", "per_block"),
                         [(">i4", 0, 1, 256), ("<f8", 2, 0, 128), (">f8", 2, 1, 128)])
def test_byte_order_and_data_type_variants_read_identically(tmp_path, dtype, dtypa, bytorda,
                                                            per_block):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    _rewrite_ser(folder, 2000, dtype, per_block)
    edit_jcamp(folder / "acqus", DTYPA=dtypa, BYTORDA=bytorda)
    exp = nmrilt.read(folder)
    ref = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    np.testing.assert_allclose(exp.data, ref.data, rtol=1e-12, atol=1e-9)


def test_nmrilt_toml_recipe_reads_unknown_pulse_program(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    edit_jcamp(folder / "acqus", PULPROG="my_local_ir")
    (folder / "nmrilt.toml").write_text('[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]\n')
    exp = nmrilt.read(folder)
    assert exp.kind == "t1_ir" and exp.axes[0].role == "delay"
    np.testing.assert_allclose(exp.axes[0].values, truth_axis("bruker_t1ir_pseudo2d"))
    assert folder / "nmrilt.toml" in exp.files


def test_toml_axis_table_scales_a_list(tmp_path):
    folder = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "bruker_t2cpmg_pseudo2d")
    edit_jcamp(folder / "acqus", PULPROG="my_cpmg")
    (folder / "nmrilt.toml").write_text(
        '[experiment]\nkind = "t2_cpmg"\n'
        'axes = [{name = "T2delay", list = "vclist", role = "echo", unit = "s", scale = 4e-3}]\n')
    exp = nmrilt.read(folder)
    np.testing.assert_allclose(exp.axes[0].values, np.array(truth(
        "bruker_t2cpmg_pseudo2d")["lists"]["vclist"]) * 4e-3)
    assert exp.axes[0].name == "T2delay"


def test_delays_override_replaces_axis(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    (folder / "vdlist").unlink()
    delays = np.linspace(0.1, 1.1, 11)
    exp = nmrilt.read(folder, kind="t1_ir", delays=delays)
    np.testing.assert_allclose(exp.axes[0].values, delays)
    assert exp.axes[0].role == "delay"


def test_pulse_program_override_uses_builtin_recipe(tmp_path):
    folder = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "bruker_t2cpmg_pseudo2d")
    edit_jcamp(folder / "acqus", PULPROG="cpmg_local")
    exp = nmrilt.read(folder, pulse_program="cpmg")
    assert exp.kind == "t2_cpmg"


def test_inline_pulse_program_list_is_used_when_vdlist_is_absent(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    (folder / "vdlist").unlink()
    values = " ".join(truth("bruker_t1ir_pseudo2d")["lists"]["vdlist"])
    with (folder / "pulseprogram").open("a") as fh:
        fh.write(f"define list<delay> t1delay = {{{values}}}\n")
    exp = nmrilt.read(folder)
    np.testing.assert_allclose(exp.axes[0].values, truth_axis("bruker_t1ir_pseudo2d"))


def test_pdata_is_read_trimmed_to_td1_with_ppm_axis():
    exp = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d", pdata=1)
    assert exp.meta["processed"] is True
    assert exp.data.shape == (11, 1024)  # 16 rows stored, 11 acquired
    ppm_axis = exp.axes[-1]
    assert ppm_axis.role == "chemical_shift" and ppm_axis.unit == "ppm"
    assert np.all(np.diff(ppm_axis.values) < 0)
    last = exp.data[-1]
    for peak in truth("bruker_t1ir_pseudo2d")["peaks"]:
        window = np.abs(ppm_axis.values - peak["ppm"]) < 0.1
        i = np.flatnonzero(window)[np.argmax(last[window])]
        assert ppm_axis.values[i] == pytest.approx(peak["ppm"], abs=0.006)
    assert np.all(exp.data[0][np.abs(ppm_axis.values - 1.2) < 0.005] < 0)


def test_pdata_folder_path_reads_processed_data():
    exp = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d" / "pdata" / "1")
    assert exp.meta["processed"] is True and exp.kind == "t1_ir"


def test_describe_lists_axes_kind_and_parameters():
    text = describe(nmrilt.read(EXAMPLES / "bruker_t1t2_pseudo3d"))
    for needle in ("t1_t2", "t1ir_cpmg", "1H", "vd", "echo_time", "delay", "echo", "n=12",
                   "0.005 .. 15 s", "SFO1", "400.131881", "NS", "298.10 K", "2025-11-25"):
        assert needle in text, needle


def test_reading_examples_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in BRUKER:
            nmrilt.read(EXAMPLES / name)


def test_pipeline_read_table_in_nmrilt_toml_is_honoured(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    edit_jcamp(folder / "acqus", PULPROG="my_local_sr")
    (folder / "nmrilt.toml").write_text(
        '[read]\nkind = "t1_sr"\npdata = 1\n\n[processing]\nline_broadening_hz = 1.0\n')
    exp = nmrilt.read(folder)
    assert exp.kind == "t1_sr" and exp.axes[0].name == "vd"
    assert exp.meta["processed"] is False  # pdata comes from the caller, not from the file


def test_vtlist_temperature_series_via_axes_override(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    edit_jcamp(folder / "acqus", PULPROG="zg")
    temps = np.linspace(280.0, 330.0, 11)
    (folder / "vtlist").write_text("\n".join(f"{t:.1f}" for t in temps) + "\n")
    exp = nmrilt.read(folder, axes=["vtlist"])
    assert exp.kind == "unknown"
    ax = exp.axes[0]
    assert (ax.name, ax.role, ax.unit) == ("temperature", "temperature", "K")
    np.testing.assert_allclose(ax.values, temps)


def test_toml_with_only_pipeline_sections_is_not_a_recipe(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    (folder / "nmrilt.toml").write_text("[inversion]\nmax_iter = 5\n")
    exp = nmrilt.read(folder)
    assert exp.kind == "t1_ir" and folder / "nmrilt.toml" not in exp.files


@pytest.mark.parametrize("keep_td_indirect", [True, False])
def test_missing_acqu2s_falls_back_to_td_indirect_or_file_size(tmp_path, keep_td_indirect):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    (folder / "acqu2s").unlink()
    (folder / "acqu2").unlink()
    if not keep_td_indirect:
        edit_jcamp(folder / "acqus", TD_INDIRECT=[0] * 8)
    exp = nmrilt.read(folder)
    assert exp.data.shape[0] == 11 and exp.kind == "t1_ir"
    np.testing.assert_allclose(exp.axes[0].values, truth_axis("bruker_t1ir_pseudo2d"))


def test_plain_1d_fid_reads_as_one_direct_axis(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "bruker_t1ir_pseudo2d")
    raw = (folder / "ser").read_bytes()
    (folder / "fid").write_bytes(raw[: 2048 * 4])
    for name in ("ser", "acqu2s", "acqu2"):
        (folder / name).unlink()
    edit_jcamp(folder / "acqus", TD_INDIRECT=[0] * 8)
    exp = nmrilt.read(folder)
    ref = nmrilt.read(EXAMPLES / "bruker_t1ir_pseudo2d")
    assert exp.ndim == 1 and exp.kind == "unknown" and exp.axes[0].role == "direct"
    np.testing.assert_allclose(exp.data, ref.data[0])


def test_pseudo3d_axes_override_with_literal_values():
    vals = np.geomspace(0.001, 10.0, 12)
    exp = nmrilt.read(EXAMPLES / "bruker_t1t2_pseudo3d", kind="t1_t2",
                      axes=[{"name": "tau1", "values": vals.tolist(), "role": "delay",
                             "unit": "s"}, "echo_time"])
    assert [a.name for a in exp.axes] == ["tau1", "echo_time", "time"]
    np.testing.assert_allclose(exp.axes[0].values, vals)


def _procs(folder: Path) -> Path:
    return folder / "pdata" / "1" / "procs"


def test_procs_phase_and_exponential_window_reach_meta_in_nmrilt_convention(tmp_path):
    """TopSpin phases its reversed spectrum by -(PHC0 + PHC1 i/SI): on nmrilt's spectrum
    (ppm increasing) that is p0 = -(PHC0 + PHC1), p1 = PHC1."""
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir")
    edit_jcamp(_procs(folder), PHC0=30.0, PHC1=-20.0, PH_mod=1, WDW=1, LB=2.5)
    exp = nmrilt.read(folder)
    vendor = exp.meta["vendor_processing"]
    assert vendor["phase_deg"] == pytest.approx((-10.0, -20.0))
    assert vendor["window"] == "exponential" and vendor["line_broadening_hz"] == 2.5
    assert "PHC0 = 30" in vendor["phase_source"] and "pdata/1" in vendor["phase_source"]
    assert _procs(folder) in exp.files


def test_stale_procs_phase_of_an_unphased_pseudo2d_is_not_kept(tmp_path):
    """PH_mod = 0: TopSpin's 2D transform did not phase, so PHC0 is not the operator's
    phase (the ODNP sets of docs/real_data.md: 1/3 hits with it, 3/3 without); WDW = 0:
    no line broadening to keep."""
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir")
    edit_jcamp(_procs(folder), PHC0=104.2, PHC1=0.0, PH_mod=0, WDW=0, LB=0.3)
    vendor = nmrilt.read(folder).meta["vendor_processing"]
    assert vendor["phase_deg"] is None
    assert vendor["window"] == "none" and vendor["line_broadening_hz"] is None


def test_unreadable_procs_is_a_note_and_the_raw_data_are_still_read(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir")
    text = _procs(folder).read_text()
    _procs(folder).write_text(text[: text.index("##END=")])
    exp = nmrilt.read(folder)
    assert "vendor_processing" not in exp.meta
    assert any("procs" in note and "not used" in note for note in exp.notes)


def test_procs_written_by_nmrilt_are_not_taken_for_the_operators(tmp_path):
    folder = copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir")
    shutil.rmtree(folder / "pdata" / "1")
    (folder / "pdata" / "999").mkdir()
    (folder / "pdata" / "999" / "procs").write_text("##END=\n")
    (folder / "pdata" / "999" / "nmrilt.json").write_text("{}")
    assert "vendor_processing" not in nmrilt.read(folder).meta
