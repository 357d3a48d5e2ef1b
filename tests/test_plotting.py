"""Figures: files written in every format, layouts with the expected labelled axes."""

from __future__ import annotations

import itertools
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
    [("T1", "s", "$T_1$ / s", 1.0), ("T2", "s", "$T_2$ / s", 1.0),
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
    assert ("$T_2$ / s", "$T_1$ / s") in labels
    main = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_2$ / s")
    assert main.get_xscale() == "log" and main.get_yscale() == "log"
    assert any(ax.get_ylabel() == "projection" for ax in fig.axes)
    assert any(ax.get_xlabel() == "projection" for ax in fig.axes)
    assert any(ax.get_title(loc="left").startswith("residuals") for ax in fig.axes)
    # signed map: diverging colours centred on zero
    mesh = main.collections[0]
    assert mesh.norm.vmin == pytest.approx(-mesh.norm.vmax)


def test_non_negative_map_uses_a_sequential_colour_map():
    fig = make_figure(small_result("2d", signed=False), cmap_positive="viridis")
    main = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_2$ / s")
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
    # shared axes: T2 under every bottom panel, T1 on the left column only
    assert [ax.get_xlabel() for ax in slices] == ["$T_2$ / s"] * 2
    assert [ax.get_ylabel() for ax in slices] == ["$T_1$ / s", ""]


def test_1d_distribution_and_residuals_vs_delay():
    fig = make_figure(small_result("1d"))
    labels = _labels(fig)
    assert ("$T_1$ / s", "amplitude") in labels
    assert ("vd / s", "r / σ") in labels
    line_ax = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_1$ / s")
    assert np.allclose(line_ax.lines[0].get_ydata(), small_result("1d").g)



@pytest.mark.parametrize("name", ["$^$", "a{b}_c", "50% \\alpha", "x$_{2}$y"])
def test_folder_names_are_drawn_as_text_not_parsed_as_mathtext(tmp_path, name):
    import dataclasses

    named = dataclasses.replace(small_result("2d"), source=str(tmp_path / name))
    paths = plot_result(named, tmp_path, formats=["png", "svg"], dpi=50)
    svg = paths[1].read_text()
    assert name.replace("&", "&amp;") in svg or name in svg


def _contour_levels(ax):
    from matplotlib.contour import ContourSet

    return [tuple(c.levels) for c in ax.get_children() if isinstance(c, ContourSet)]


def test_one_contour_scale_for_all_panels():
    """A weak panel gets the strong panel's levels, not a full set of its own around noise."""
    from dataclasses import replace

    from nmrilt.output.plot_data import CONTOUR_FRACTIONS, panels, vmax_of

    res = small_result("pseudo3d")
    g = res.g.copy()
    g[..., 6:] *= 0.2  # the 6 ppm region: five times weaker
    res = replace(res, inversion=replace(res.inversion, g=g))
    vmax = vmax_of(panels(res))
    fig = make_figure(res)
    slices = [ax for ax in fig.axes if ax.get_title().startswith("δ")]
    expected = tuple(np.asarray(CONTOUR_FRACTIONS) * vmax)
    for ax in slices:
        for levels in _contour_levels(ax):
            assert np.allclose(np.abs(levels)[::-1] if levels[0] < 0 else levels, expected)
        mesh = ax.collections[0]
        assert mesh.norm.vmax == pytest.approx(vmax)  # one colour scale too
    weak = next(ax for ax in slices if "6" in ax.get_title().split("–")[0])
    # its peak is -0.3 x 1.5 ... of vmax: only the levels it reaches are drawn
    drawn = [lv for levels in _contour_levels(weak) for lv in levels]
    assert len(drawn) < 2 * len(CONTOUR_FRACTIONS)


@pytest.mark.parametrize("mode", ["crop", "shade", "grid"])
def test_tau_axis_sampled_range_shaded_or_cropped(mode):
    from nmrilt.output.plot_data import sampled_range

    res = small_result("2d")
    fig = make_figure(res, tau_axis=mode)
    main = next(ax for ax in fig.axes if ax.get_xlabel() == "$T_2$ / s")
    lo, hi = sampled_range(res, 1)
    assert (lo, hi) == (res.t[1].min(), res.t[1].max())
    xlo, xhi = main.get_xlim()
    grey = [p for p in main.patches if p.get_alpha() == 0.25]
    if mode == "crop":
        assert (xlo, xhi) == pytest.approx((lo, hi)) and not grey
    elif mode == "shade":
        assert xlo == pytest.approx(max(lo / 10**0.5, res.tau[1].min()))
        assert xhi == pytest.approx(min(hi * 10**0.5, res.tau[1].max()))
        assert grey
    else:
        assert (xlo, xhi) == pytest.approx((res.tau[1].min(), res.tau[1].max())) and grey


def test_diffusion_sampled_range_is_reciprocal_b():
    from dataclasses import replace

    from nmrilt.model import Dimension
    from nmrilt.output.plot_data import sampled_range

    res = small_result("1d")
    b = np.geomspace(1e8, 1e10, 8)
    d = Dimension("D", "m^2/s", "gradient", "diffusion", "b", "s/m^2")
    res = replace(res, dims=(d,), inversion=replace(res.inversion, t=(b,), kernels=("diffusion",)))
    assert sampled_range(res, 0) == pytest.approx((1e-10, 1e-8))


def test_regions_are_categorical_columns_without_contours():
    from dataclasses import replace

    res = small_result("pseudo2d")
    centres = np.array([1.2, 3.4, 7.1])
    g = res.g[:, [2, 6, 14]]
    dim = Dimension("region", "ppm", "chemical_shift", "identity", "δ", "ppm", centres)
    params = {**res.parameters, "choices": {"shift": {"regions_ppm": [[1.0, 1.4], [3.2, 3.6],
                                                                       [6.9, 7.3]]}}}
    inv = replace(res.inversion, g=g, tau=(res.tau[0], centres), t=(res.t[0], centres),
                  data=res.data[:, :3], residuals=res.residuals[:, :3], fit=res.fit[:, :3])
    res = replace(res, inversion=inv, dims=(res.dims[0], dim), parameters=params)
    fig = make_figure(res, width_mm=85)
    ax = next(a for a in fig.axes if a.get_xlabel() == "summed region / ppm"
              and a.get_ylabel() == "$T_1$ / s")
    assert len(ax.get_xticklabels()) == 3  # one label per region, high ppm first
    assert list(ax.get_xticks()) == [0, 1, 2]  # equal columns, no ppm between them
    assert _contour_levels(ax) == []


def test_pseudo2d_has_a_spectrum_trace_and_a_projection():
    fig = make_figure(small_result("pseudo2d"))
    assert any(ax.get_title(loc="left").startswith("spectrum") for ax in fig.axes)
    assert any(ax.get_xlabel() == "projection" for ax in fig.axes)


def test_residuals_on_physical_axes():
    fig = make_figure(small_result("pseudo3d"))
    res_ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("residuals"))
    assert (res_ax.get_xlabel(), res_ax.get_ylabel()) == ("echo_time / s", "vd / s")
    assert "mean over 12 shifts" in res_ax.get_title(loc="left")
    fig = make_figure(small_result("pseudo2d"))
    res_ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("residuals"))
    assert res_ax.get_ylabel() == "vd / s" and res_ax.get_yscale() == "log"


def test_title_and_residuals_can_be_left_out():
    fig = make_figure(small_result("2d"), title=False, residuals=False)
    assert fig._suptitle is None
    assert not any(ax.get_title(loc="left").startswith("residuals") for ax in fig.axes)


def _overlaps(boxes):
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5]


@pytest.mark.parametrize("kind", ["1d", "2d", "pseudo2d", "pseudo2d_many", "pseudo3d"])
@pytest.mark.parametrize("width", [85.0, 170.0])
def test_layout_holds_at_column_widths(kind, width):
    """No tick labels collide on any axis, no two panels overlap, all inside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = make_figure(small_result(kind), width_mm=width)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    fb = fig.bbox
    panels = []
    for ax in fig.axes:
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            boxes = [t.get_window_extent(renderer) for t in labels
                     if t.get_visible() and t.get_text()]
            assert not _overlaps(boxes), f"{kind} {width} mm: tick labels collide"
        bb = ax.get_tightbbox(renderer)
        if bb is not None and ax.get_visible() and ax.axison:
            assert bb.x0 >= fb.x0 - 1 and bb.x1 <= fb.x1 + 1, f"{kind}: outside the figure"
            if ax.get_label() != "<colorbar>" and ax.get_axes_locator() is None:
                panels.append(ax.get_position().transformed(fig.transFigure))
    assert not _overlaps(panels), f"{kind} {width} mm: panels overlap"
    height_mm = fig.get_size_inches()[1] * 25.4
    assert 0.4 * width < height_mm < 1.6 * width


def test_report_states_the_contour_levels():
    from nmrilt.output.report import report_text

    text = " ".join(report_text(small_result("pseudo3d")).split())
    assert "Contours at 10, 30, 50, 70, 90 %" in text and "one scale for all panels" in text
    assert "outside the sampled range" in text


def _mesh_x_ranges(ax):
    return [(round(float(c.get_coordinates()[0, :, 0].min()), 9),
             round(float(c.get_coordinates()[0, :, 0].max()), 9))
            for c in ax.collections if hasattr(c, "get_coordinates")]


@pytest.mark.parametrize("width", [85.0, 170.0])
def test_many_signal_regions_share_one_compressed_shift_axis(width):
    """Nine regions (real spectra have 10-20): one map, not nine panels a few mm wide; the
    regions side by side without overlap, residual columns under their map columns."""
    fig = make_figure(small_result("pseudo2d_many"), width_mm=width)
    maps = [ax for ax in fig.axes if ax.get_ylabel() == "$T_1$ / s"]
    assert len(maps) == 1
    res = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("residuals"))
    assert "9 " in res.get_xlabel() and res.get_xlabel().startswith("δ / ppm")
    ranges = _mesh_x_ranges(maps[0])
    assert len(ranges) == 9 and _mesh_x_ranges(res) == ranges
    ordered = sorted(ranges)
    assert ordered[0][0] >= 0.0 and ordered[-1][1] <= 1.0
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ordered))


def test_compressed_axis_places_regions_high_ppm_first_with_readable_labels():
    from nmrilt.output.shift_axis import MIN_FRACTION, CompressedShiftAxis

    segments = [np.array([8.0, 7.99, 7.98]), np.array([5.0]),
                np.linspace(4.5, 3.0, 150), np.array([1.21, 1.2])]
    axis = CompressedShiftAxis.from_segments(segments)
    assert np.all(axis.widths >= MIN_FRACTION * 0.99)
    assert axis.starts[-1] + axis.widths[-1] == pytest.approx(1.0)
    for k, v in enumerate(segments):
        u, e = axis.positions(k), axis.edges(k)
        assert np.all(np.diff(u) > 0)  # decreasing ppm to the right
        assert e[0] == pytest.approx(axis.starts[k])
        assert e[-1] == pytest.approx(axis.starts[k] + axis.widths[k])
        assert np.all((e[:-1] < u) & (u < e[1:]))
    # increasing ppm order inside a segment: edges follow the points
    e = axis.__class__.from_segments([segments[2][::-1]]).edges(0)
    assert np.all(np.diff(e) < 0)
    for axis_mm in (60.0, 140.0):
        ticks, labels = axis.ticks(axis_mm, 6.8)
        gaps = np.diff(ticks) * axis_mm
        label_mm = 4 * 0.6 * 6.8 * 25.4 / 72
        assert np.all(gaps >= label_mm) and len(ticks) >= 2
        for pos, text in zip(ticks, labels):  # each label names the ppm under it
            k = int(np.searchsorted(axis.starts, pos, side="right") - 1)
            assert axis.to_axis(k, float(text)) == pytest.approx(pos, abs=0.01)


def test_title_names_the_experiment_also_for_processed_only_data():
    from nmrilt.output.plotting import experiment_title

    assert experiment_title("/data/study/5") == "study/5"
    assert experiment_title("/data/study/5/pdata/1") == "study/5, pdata 1"
    assert experiment_title("/data/pj/pdata/1") == "pj, pdata 1"
