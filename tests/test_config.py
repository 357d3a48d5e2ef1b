"""Settings: defaults, file/keyword precedence, validation messages."""

from __future__ import annotations

import pytest

from nmrilt.config import DEFAULTS, load_settings
from nmrilt.errors import ConfigError


def test_defaults_are_returned_without_sources():
    s = load_settings()
    assert s["processing"] == DEFAULTS["processing"]
    assert s["output"]["formats"] == ["png", "pdf", "svg"]
    assert s["inversion"] == {} and s["read"] == {}


def test_defaults_are_not_shared_between_calls():
    s = load_settings()
    s["processing"]["regions"].append([1, 2])
    assert load_settings()["processing"]["regions"] == []


def test_precedence_config_then_folder_file_then_keywords(tmp_path):
    cfg = tmp_path / "global.toml"
    cfg.write_text('[processing]\npoints_per_decade = 4\nshift_mode = "sum"\n'
                   '[inversion]\nmax_iter = 7\n')
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "nmrilt.toml").write_text('[processing]\nshift_mode = "points"\n'
                                     '[read]\nkind = "t1_sr"\n')
    s = load_settings(exp, cfg, max_iter=3, formats=["png"])
    assert s["processing"]["points_per_decade"] == 4          # from --config
    assert s["processing"]["shift_mode"] == "points"          # folder file beats --config
    assert s["read"]["kind"] == "t1_sr"
    assert s["inversion"]["max_iter"] == 3                    # keyword beats files
    assert s["output"]["formats"] == ["png"]


def test_keywords_are_routed_to_sections():
    s = load_settings(kind="t1_ir", shift_mode="sum", width_mm=85, alpha_00=2.0,
                      processing={"baseline": "none"})
    assert s["read"] == {"kind": "t1_ir"}
    assert s["processing"]["shift_mode"] == "sum"
    assert s["processing"]["baseline"] == "none"
    assert s["output"]["width_mm"] == 85
    assert s["inversion"] == {"alpha_00": 2.0}


def test_formats_may_be_a_comma_separated_string():
    assert load_settings(formats="png,svg")["output"]["formats"] == ["png", "svg"]


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"shift_mode": "everything"}, "shift_mode"),
        ({"phase": "manual"}, "phase"),
        ({"phase": [10]}, "phase"),
        ({"shift_mode": "regions"}, "regions"),
        ({"regions": [[1, 2, 3]]}, "regions"),
        ({"noise": "region"}, "noise_region"),
        ({"points_per_decade": 0}, "points_per_decade"),
        ({"max_tau_points": 2}, "max_tau_points"),
        ({"formats": ["png", "jpg"]}, "formats"),
        ({"kernels": ["gaussian"]}, "kernels"),
        ({"use_pdata": "yes"}, "use_pdata"),
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
