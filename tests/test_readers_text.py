"""Plain CSV/TXT/NPZ reader: delays + intensities, 1D and 2D, units from headers."""

from __future__ import annotations

import numpy as np
import pytest

import nmrilt
from nmrilt.errors import NotAnExperimentError, ReadError


def test_two_column_csv_with_ms_header_converts_to_seconds(tmp_path):
    t = np.array([1.0, 2.0, 5.0, 10.0, 50.0])
    y = 1 - 2 * np.exp(-t * 1e-3 / 0.01)
    path = tmp_path / "ir.csv"
    path.write_text("tau (ms),intensity\n" + "".join(f"{a},{b}\n" for a, b in zip(t, y)))
    exp = nmrilt.read(path, kind="t1_ir")
    assert exp.kind == "t1_ir"
    assert exp.axes[0].role == "delay" and exp.axes[0].unit == "s"
    np.testing.assert_allclose(exp.axes[0].values, t * 1e-3)
    np.testing.assert_allclose(exp.data, y)
    assert exp.files == (path,)


def test_whitespace_txt_without_header_and_with_comments(tmp_path):
    path = tmp_path / "cpmg.txt"
    path.write_text("# minispec export\n0.001 100\n0.002   90\n\n0.004 81 # note\n")
    exp = nmrilt.read(path, kind="t2_cpmg")
    assert exp.axes[0].role == "echo"
    np.testing.assert_allclose(exp.axes[0].values, [0.001, 0.002, 0.004])
    np.testing.assert_allclose(exp.data, [100, 90, 81])


def test_tab_separated_2d_with_numeric_header_gives_second_axis(tmp_path):
    path = tmp_path / "t1t2.tsv"
    rows = ["tau1 (s)\t0.01\t0.1\t1"]
    data = np.arange(12, dtype=float).reshape(4, 3)
    t1 = [0.001, 0.01, 0.1, 1.0]
    rows += ["\t".join(map(str, [t] + list(r))) for t, r in zip(t1, data)]
    path.write_text("\n".join(rows) + "\n")
    exp = nmrilt.read(path, kind="t1_t2")
    assert exp.data.shape == (4, 3)
    assert [a.role for a in exp.axes] == ["delay", "echo"]
    np.testing.assert_allclose(exp.axes[1].values, [0.01, 0.1, 1.0])
    np.testing.assert_allclose(exp.data, data)


def test_b_value_column_name_sets_role_and_unit(tmp_path):
    path = tmp_path / "dosy.csv"
    path.write_text("b (s/mm^2),I\n0,1\n100,0.8\n1000,0.1\n")
    exp = nmrilt.read(path)
    assert exp.axes[0].role == "b_value" and exp.axes[0].unit == "s/m^2"
    np.testing.assert_allclose(exp.axes[0].values, [0, 1e8, 1e9])


def test_npz_with_two_axes_and_kind(tmp_path):
    path = tmp_path / "map.npz"
    data = np.ones((5, 6))
    np.savez(path, data=data, x0=np.logspace(-3, 0, 5), x1=np.logspace(-3, 0, 6),
             kind="t1_t2")
    exp = nmrilt.read(path)
    assert exp.kind == "t1_t2" and exp.data.shape == (5, 6)
    assert [a.role for a in exp.axes] == ["delay", "echo"]


def test_npz_one_dimensional_with_x(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, data=np.exp(-np.arange(4.0)), x=np.arange(4.0) * 1e9)
    exp = nmrilt.read(path, kind="diffusion")
    assert exp.axes[0].role == "b_value" and exp.axes[0].unit == "s/m^2"


def test_ragged_rows_are_an_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3\n")
    with pytest.raises(ReadError, match="bad.csv"):
        nmrilt.read(path)


def test_text_after_numbers_is_an_error_with_line_number(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("t y\n1 2\nend of data\n")
    with pytest.raises(ReadError, match="line 3"):
        nmrilt.read(path)


def test_npz_without_data_array_is_an_error(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, y=np.ones(3))
    with pytest.raises(ReadError, match="'data'"):
        nmrilt.read(path)


def test_unknown_suffix_is_not_an_experiment(tmp_path):
    path = tmp_path / "data.xyz"
    path.write_text("1 2\n")
    with pytest.raises(NotAnExperimentError):
        nmrilt.read(path)


def test_readers_registered_by_entry_point_are_asked(tmp_path, monkeypatch):
    import types

    import nmrilt.readers as readers
    from nmrilt.readers import Axis, Experiment

    plugin = types.SimpleNamespace(
        guess_can_open=lambda p: str(p).endswith(".mine"),
        read=lambda p, **kw: Experiment(np.zeros(2), (Axis("t", [0.0, 1.0], "s", "delay"),),
                                        {}, p, "t1_ir", (p,)),
    )

    class EP:
        def load(self):
            return plugin

    monkeypatch.setattr(readers, "entry_points", lambda group: [EP()])
    path = tmp_path / "x.mine"
    path.write_text("")
    assert nmrilt.read(path).kind == "t1_ir"
