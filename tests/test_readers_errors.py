"""Every read error is a specific ReadError subclass whose message names the file and the fix;
reading never writes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, copy_example, edit_jcamp

import nmrilt
from nmrilt.errors import (
    ListFormatError,
    ListLengthError,
    MissingListError,
    NotAnExperimentError,
    ParameterFileError,
    ReadError,
    TruncatedDataError,
    UnknownPulseProgramError,
    UnsupportedDataTypeError,
)


@pytest.fixture
def t1ir(tmp_path) -> Path:
    return copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir" / "1")


def test_missing_list(t1ir):
    (t1ir / "vdlist").unlink()
    with pytest.raises(MissingListError) as info:
        nmrilt.read(t1ir)
    msg = str(info.value)
    assert str(t1ir / "vdlist") in msg
    assert "nmrilt_t1" in msg  # the acqus VDLIST name, so the user knows which list to copy
    assert "Copy the list" in msg and "delays=" in msg


def test_list_shorter_than_td(t1ir):
    lines = (t1ir / "vdlist").read_text().split()
    (t1ir / "vdlist").write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(ListLengthError) as info:
        nmrilt.read(t1ir)
    msg = str(info.value)
    assert str(t1ir / "vdlist") in msg and "9 entries" in msg and "TD is 11" in msg
    assert "fix the list" in msg


def test_bad_list_line(t1ir):
    (t1ir / "vdlist").write_text("10m\n20 apples\n")
    with pytest.raises(ListFormatError, match=r"vdlist, line 2: cannot read '20 apples'"):
        nmrilt.read(t1ir)


def test_truncated_ser_without_one_complete_increment(t1ir):
    ser = t1ir / "ser"
    ser.write_bytes(ser.read_bytes()[:5000])  # less than one 8192-byte FID block
    with pytest.raises(TruncatedDataError) as info:
        nmrilt.read(t1ir)
    assert str(ser) in str(info.value) and "re-acquire" in str(info.value)


def test_short_ser_is_an_error_when_partial_reads_are_refused(t1ir):
    ser = t1ir / "ser"
    ser.write_bytes(ser.read_bytes()[: 3 * 8192])
    with pytest.raises(TruncatedDataError, match="allow_partial"):
        nmrilt.read(t1ir, allow_partial=False)


def test_missing_ser(t1ir):
    # without processed spectra to fall back on (see test_pulseprogram for the fallback)
    (t1ir / "ser").unlink()
    shutil.rmtree(t1ir / "pdata")
    with pytest.raises(TruncatedDataError, match="no fid/ser"):
        nmrilt.read(t1ir)


def test_unreadable_acqus(t1ir):
    (t1ir / "acqus").write_bytes(b"\x00\x01binary garbage\xff\xfe\n")
    with pytest.raises(ParameterFileError) as info:
        nmrilt.read(t1ir)
    assert str(t1ir / "acqus") in str(info.value)
    assert "intact acqus" in str(info.value)


def test_unknown_dtypa(t1ir):
    edit_jcamp(t1ir / "acqus", DTYPA=1)
    with pytest.raises(UnsupportedDataTypeError) as info:
        nmrilt.read(t1ir)
    assert "DTYPA = 1" in str(info.value) and str(t1ir / "acqus") in str(info.value)


def test_not_an_experiment(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(NotAnExperimentError, match="acqus"):
        nmrilt.read(tmp_path)
    with pytest.raises(NotAnExperimentError, match="does not exist"):
        nmrilt.read(tmp_path / "missing")


def test_unknown_pulse_program_without_override(t1ir):
    edit_jcamp(t1ir / "acqus", PULPROG="zz_homebrew")
    with pytest.raises(UnknownPulseProgramError) as info:
        nmrilt.read(t1ir)
    msg = str(info.value)
    assert "'zz_homebrew'" in msg
    assert str(t1ir / "nmrilt.toml") in msg
    assert '[experiment]\nkind = "t1_ir"\naxes = ["vdlist"]' in msg
    assert 'nmrilt.read(path, kind="t1_ir")' in msg


def test_every_read_error_is_a_read_error():
    for cls in (MissingListError, ListLengthError, ListFormatError, TruncatedDataError,
                ParameterFileError, UnsupportedDataTypeError, NotAnExperimentError,
                UnknownPulseProgramError):
        assert issubclass(cls, ReadError)


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_reading_never_writes(tmp_path):
    root = Path(shutil.copytree(EXAMPLES, tmp_path / "examples",
                                ignore=shutil.ignore_patterns("*.py", "__pycache__")))
    before = _snapshot(root)
    dirs_before = sorted(p for p in root.rglob("*") if p.is_dir())
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        nmrilt.read(folder)
    nmrilt.read(root / "bruker_t1ir_pseudo2d", pdata=1)
    nmrilt.read(root / "bruker_t1ir_pseudo2d" / "pdata" / "1")
    edit_dir = root / "bruker_t2cpmg_pseudo2d"
    (edit_dir / "vclist").unlink()
    before.pop("bruker_t2cpmg_pseudo2d/vclist")
    with pytest.raises(MissingListError):
        nmrilt.read(edit_dir)
    assert _snapshot(root) == before
    assert sorted(p for p in root.rglob("*") if p.is_dir()) == dirs_before


def test_parent_folder_of_experiments_names_them(tmp_path):
    for expno in ("1", "2"):
        copy_example("bruker_t1ir_pseudo2d", tmp_path / "study" / expno)
    with pytest.raises(NotAnExperimentError, match="give one of them: 1, 2"):
        nmrilt.read(tmp_path / "study")


def test_invalid_nmrilt_toml_is_a_config_error_naming_the_file(t1ir):
    from nmrilt.errors import ConfigError

    (t1ir / "nmrilt.toml").write_text('[experiment]\nkind = "t1_ir\n')
    with pytest.raises(ConfigError, match="nmrilt.toml: not valid TOML"):
        nmrilt.read(t1ir)
    (t1ir / "nmrilt.toml").write_text('[experiment]\nknd = "t1_ir"\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['knd'\]"):
        nmrilt.read(t1ir)


def test_unknown_read_option_is_rejected(t1ir):
    from nmrilt.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown read option"):
        nmrilt.read(t1ir, delay_list=[1, 2])


def test_unknown_pulse_program_suggests_the_kind_the_lists_point_to(tmp_path):
    folder = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "cpmg")
    edit_jcamp(folder / "acqus", PULPROG="my_cpmg")
    with pytest.raises(UnknownPulseProgramError) as info:
        nmrilt.read(folder)
    assert '[experiment]\nkind = "t2_cpmg"\naxes = ["echo_time"]' in str(info.value)
    assert 'kind="t2_cpmg"' in str(info.value)


def test_delays_override_on_pseudo3d_asks_for_axes_tables():
    from nmrilt.errors import ConfigError

    with pytest.raises(ConfigError, match="one per dimension"):
        nmrilt.read(EXAMPLES / "bruker_t1t2_pseudo3d", delays=[1.0, 2.0])
