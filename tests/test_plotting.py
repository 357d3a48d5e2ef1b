"""Figures: files written in every format, layouts with the expected labelled axes."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from pipeline_helpers import small_result

from nmrilt.model import Dimension
from nmrilt.output.plotting import axis_label, make_figure, plot_result


def _labels(fig):
    return {(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes}


def test_importing_nmrilt_does_not_import_matplotlib():
    import subprocess

    code = "import nmrilt, nmrilt.pipeline, nmrilt.cli, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "name, unit, label, factor",
    [("T1", "s", "$T_1$ / s", 1.0), ("T2", "s", "$T_2$ / ms", 1e3),
     ("D", "m^2/s", "$D$ / m² s⁻¹", 1.0), ("shift", "ppm", "δ / ppm", 1.0),
     ("T", "K", "T / K", 1.0)],
)
def test_axis_labels_carry_units(name, unit, label, factor):
    assert axis_label(Dimension(name, unit, "delay", "exponential", "t", "s")) == (label, factor)


def test_png_pdf_svg_written_and_non_empty(tmp_path):
    paths = plot_result(small_result("2d"), tmp_path, formats=["png", "pdf", "svg"],
                        width_mm=120, font_size=7, dpi=100)
    assert [p.name for p in paths] == ["map.png", "map.pdf", "map.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in paths[2].read_bytes()[:2000]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.pdf", "map.png", "map.svg"]


def test_size_in_mm_is_respected():
    fig = make_figure(small_result("2d"), width_mm=85.0, height_mm=60.0)
    w, h = fig.get_size_inches()
    assert w * 25.4 == pytest.approx(85.0) and h * 25.4 == pytest.approx(60.0)


def test_2d_map_has_log_axes_projections_and_residuals():
    fig = make_figure(small_result("2d"))
    labels = _labels(fig)
    assert ("$T_2$ / ms", "$T_1$ / s") in labels
    main = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_2$ / ms")
    assert main.get_xscale() == "log" and main.get_yscale() == "log"
    assert any(ax.get_ylabel() == "projection" for ax in fig.axes)
    assert any(ax.get_xlabel() == "projection" for ax in fig.axes)
    assert any(ax.get_title(loc="left").startswith("residuals") for ax in fig.axes)
    # signed map: diverging colours centred on zero
    mesh = main.collections[0]
    assert mesh.norm.vmin == pytest.approx(-mesh.norm.vmax)


def test_non_negative_map_uses_a_sequential_colour_map():
    fig = make_figure(small_result("2d", signed=False), cmap_positive="viridis")
    main = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_2$ / ms")
    assert main.collections[0].norm.vmin == 0.0
    assert main.collections[0].cmap.name == "viridis"


def test_pseudo2d_map_is_ppm_by_t1_with_reversed_ppm():
    fig = make_figure(small_result("pseudo2d"))
    ax = next(ax for ax in fig.axes if ax.get_xlabel() == "δ / ppm")
    assert ax.get_ylabel() == "$T_1$ / s" and ax.get_yscale() == "log"
    left, right = ax.get_xlim()
    assert left > right


def test_pseudo3d_is_a_grid_of_slices_one_per_signal_region():
    fig = make_figure(small_result("pseudo3d"))
    slices = [ax for ax in fig.axes if ax.get_title().startswith("δ")]
    assert len(slices) == 2
    assert all((ax.get_xlabel(), ax.get_ylabel()) == ("$T_2$ / ms", "$T_1$ / s") for ax in slices)


def test_1d_distribution_and_residuals_vs_delay():
    fig = make_figure(small_result("1d"))
    labels = _labels(fig)
    assert ("$T_1$ / s", "amplitude") in labels
    assert ("vd / s", "residual / σ") in labels
    line_ax = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_1$ / s")
    assert np.allclose(line_ax.lines[0].get_ydata(), small_result("1d").g)



@pytest.mark.parametrize("name", ["$^$", "a{b}_c", "50% \\alpha", "x$_{2}$y"])
def test_folder_names_are_drawn_as_text_not_parsed_as_mathtext(tmp_path, name):
    import dataclasses

    named = dataclasses.replace(small_result("2d"), source=str(tmp_path / name))
    paths = plot_result(named, tmp_path, formats=["png", "svg"], dpi=50)
    svg = paths[1].read_text()
    assert name.replace("&", "&amp;") in svg or name in svg
