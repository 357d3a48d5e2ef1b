"""Settings: defaults, file/keyword precedence, validation messages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nmrilt.config import DEFAULTS, ProcessingSettings, Settings, load_settings
from nmrilt.errors import ConfigError


def test_defaults_are_returned_without_sources():
    s = load_settings()
    assert isinstance(s, Settings)
    assert s.processing == ProcessingSettings()
    assert s.to_dict()["processing"] == DEFAULTS["processing"]
    assert s.output.formats == ("png", "pdf", "svg")
    assert dict(s.inversion) == {} and dict(s.read) == {} and dict(s.origins) == {}


def test_settings_are_frozen_and_recorded_as_plain_sections():
    s = load_settings(regions=[[1.0, 2.0]], shift_mode="regions")
    with pytest.raises(AttributeError):
        s.processing.shift_mode = "sum"
    with pytest.raises(TypeError):
        s.inversion["max_iter"] = 3
    recorded = s.to_dict()
    assert recorded["processing"]["regions"] == [[1.0, 2.0]]
    assert recorded["output"]["formats"] == ["png", "pdf", "svg"]
    recorded["processing"]["regions"].append([3, 4])
    assert load_settings().processing.regions == ()


def test_precedence_config_then_folder_file_then_keywords(tmp_path):
    cfg = tmp_path / "global.toml"
    cfg.write_text('[processing]\npoints_per_decade = 4\nshift_mode = "sum"\n'
                   '[inversion]\nmax_iter = 7\n')
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "nmrilt.toml").write_text('[processing]\nshift_mode = "points"\n'
                                     '[read]\nkind = "t1_sr"\n')
    s = load_settings(exp, cfg, max_iter=3, formats=["png"])
    assert s.processing.points_per_decade == 4          # from --config
    assert s.processing.shift_mode == "points"          # folder file beats --config
    assert s.read["kind"] == "t1_sr"
    assert s.inversion["max_iter"] == 3                 # keyword beats files
    assert s.output.formats == ("png",)
    assert s.origins["processing.points_per_decade"] == str(cfg)
    assert s.origins["processing.shift_mode"] == str(exp / "nmrilt.toml")
    assert s.origins["inversion.max_iter"] == "argument"


def test_keywords_are_routed_to_sections():
    s = load_settings(kind="t1_ir", shift_mode="sum", width_mm=85, alpha_00=2.0,
                      processing={"baseline": "none"})
    assert dict(s.read) == {"kind": "t1_ir"}
    assert s.processing.shift_mode == "sum"
    assert s.processing.baseline == "none"
    assert s.output.width_mm == 85
    assert dict(s.inversion) == {"alpha_00": 2.0}


def test_phase_fit_and_truncation_broadening_are_valid_choices():
    s = load_settings(phase="fit", line_broadening_hz="truncation")
    assert (s.processing.phase, s.processing.line_broadening_hz) == ("fit", "truncation")


def test_formats_may_be_a_comma_separated_string():
    assert load_settings(formats="png,svg").output.formats == ("png", "svg")


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"shift_mode": "everything"}, "shift_mode"),
        ({"phase": "manual"}, "phase"),
        ({"phase": [10]}, "phase"),
        ({"line_broadening_hz": "operator"}, "line_broadening_hz"),
        ({"shift_mode": "regions"}, "regions"),
        ({"regions": [[1, 2, 3]]}, "regions"),
        ({"noise": "region"}, "noise_region"),
        ({"points_per_decade": 0}, "points_per_decade"),
        ({"max_tau_points": 2}, "max_tau_points"),
        ({"formats": ["png", "jpg"]}, "formats"),
        ({"kernels": ["gaussian"]}, "kernels"),
        ({"use_pdata": "yes"}, "use_pdata"),
        ({"points_per_decade": float("inf")}, "points_per_decade"),
        ({"points_per_decade": "8"}, "points_per_decade"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"formats": "png,gif"}, "formats"),
        ({"dpi": 5}, "dpi"),
        ({"dpi": 300.5}, "dpi"),
        ({"width_mm": 1e6}, "width_mm"),
        ({"nonneg": "yes"}, "nonneg"),
    ],
)
def test_invalid_values_are_rejected_naming_the_setting(settings, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(**settings)


def test_unknown_key_in_a_file_is_named_with_the_file(tmp_path):
    f = tmp_path / "nmrilt.toml"
    f.write_text("[processing]\nshift_mod = 'sum'\n")
    with pytest.raises(ConfigError, match=r"nmrilt.toml.*processing.shift_mod"):
        load_settings(tmp_path)


def test_unknown_section_and_bad_toml_are_errors(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text("[plotting]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown section"):
        load_settings(config=f)
    f.write_text("[processing\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config=f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config=tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "section, typo, closest",
    [
        ("processing", "max_shift_point", "max_shift_points"),
        ("output", "dpii", "dpi"),
        ("inversion", "max_iters", "max_iter"),
        ("experiment", "pulse_programme", "pulse_program"),
        ("read", "allow_parital", "allow_partial"),
    ],
)
def test_misspelled_key_in_a_file_names_file_key_and_closest_one(tmp_path, section, typo, closest):
    f = tmp_path / "nmrilt.toml"
    f.write_text(f"[{section}]\n{typo} = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert str(f) in message and f"{section}.{typo}" in message
    assert f"did you mean {closest!r}" in message


def test_misspelled_section_table_given_as_argument_is_named():
    with pytest.raises(ConfigError, match=r"argument.*processing\.shift_mod.*'shift_mode'"):
        load_settings(processing={"shift_mod": "sum"})
    with pytest.raises(ConfigError, match=r"unknown section \[procesing\].*'processing'"):
        load_settings(config={"procesing": {}})


def test_bad_value_in_a_file_names_file_key_value_and_what_is_valid(tmp_path):
    f = tmp_path / "nmrilt.toml"
    f.write_text("[processing]\npoints_per_decade = -3\n")
    with pytest.raises(ConfigError, match=r"nmrilt.toml: processing.points_per_decade = -3.*> 0"):
        load_settings(tmp_path)


def test_binary_garbage_settings_file_is_a_config_error_naming_it(tmp_path):
    f = tmp_path / "nmrilt.toml"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match=r"nmrilt.toml is not valid TOML"):
        load_settings(tmp_path)


def test_import_of_config_loads_neither_nmrglue_nor_the_readers():
    code = ("import sys, nmrilt.config; "
            "print(sorted(m for m in sys.modules if m.startswith(('nmrglue', 'nmrilt.readers'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("text", "pattern"), [
    ('[inversion]\nmax_iter = "x"\n', "inversion.max_iter = 'x'"),
    ("[output]\nformats = 3\n", "output.formats = 3"),
    ("[processing]\npoints_per_decade = nan\n", "points_per_decade = nan"),
    ("[processing]\npoints_per_decade = inf\n", "points_per_decade = inf"),
    ("[processing]\nextend_decades = nan\n", "extend_decades = nan"),
    ('[read]\npdata = "x"\n', "read.pdata = 'x'"),
    ("[output]\nwidth_mm = 1e5\n", "width_mm = 100000.0"),
    ("[output]\ndpi = 100000\n", "dpi = 100000"),
    ("[output]\nwidth_mm = 1000\ndpi = 2000\n", "pixels"),
    ('[output]\ncmap_signed = "no_such_map"\n', "not a matplotlib colour map"),
    ('[inversion]\nnonneg = "yes"\n', "inversion.nonneg = 'yes'"),
    ("[inversion]\nalpha_00 = 1e308\n", "alpha_00 = 1e\\+308: is too large"),
    ("[inversion]\nalpha_c = nan\n", "inversion.alpha_c = nan: must be a finite number"),
    ('[inversion]\ndamping = "x"\n', "inversion.damping = 'x': must be a finite number"),
    ("[processing]\ncrop = [1, nan]\n", "processing.crop"),
])
def test_bad_value_in_settings_file_is_refused_naming_file_and_key(tmp_path, text, pattern):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=pattern) as info:
        load_settings(config=path)
    assert str(path) in str(info.value)


def test_binary_settings_file_is_a_config_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"\x00\xff\xfe binary \x01")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(config=path)
