"""Type and range checks of the settings values (used by :func:`nmrilt.config.validate`).

Every failure is a :class:`~nmrilt.errors.ConfigError` naming where the value came from (a
file path or "argument"), the key, the value and what is valid.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any

from .errors import ConfigError

FORMATS = ("png", "pdf", "svg")
KERNELS = ("exponential", "inversion_recovery", "saturation_recovery", "diffusion", "identity")
#: Sane limits of the figure settings (outside them a figure is unreadable or huge).
DPI_RANGE = (30, 2400)
WIDTH_MM_RANGE = (20.0, 2000.0)
FONT_SIZE_RANGE = (2.0, 72.0)
#: Largest figure side in pixels (width or height in mm x dpi; Agg cannot draw beyond).
MAX_FIGURE_PIXELS = 30000
#: Regularization weights above this only flatten the map to zero (and overflow).
MAX_ALPHA = 1e10
#: Upper limits of the tau-grid settings (beyond them the grid is meaningless or huge).
MAX_POINTS_PER_DECADE = 1000.0
MAX_EXTEND_DECADES = 10.0

_CHOICES = {
    "use_pdata": ("auto", True, False),
    "baseline": ("none", "constant", "linear"),
    "shift_mode": ("points", "regions", "sum"),
    "noise": ("auto", "imaginary", "region"),
    "noise_model": ("auto", "thermal"),
}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_range(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(_number(v) for v in value)


class _Checker:
    """Raises ConfigError naming the origin (file or argument), key, value and what is valid."""

    def __init__(self, settings: dict[str, dict[str, Any]], origins: dict[str, str]):
        self.settings, self.origins = settings, origins

    def fail(self, section: str, key: str, valid: str) -> None:
        value = self.settings[section][key]
        where = self.origins.get(f"{section}.{key}", "defaults")
        raise ConfigError(f"{where}: {section}.{key} = {value!r}: {valid}")

    def number(self, section: str, key: str, low: float, strict: bool = False,
               high: float | None = None) -> None:
        v = self.settings[section][key]
        ok = _number(v) and (v > low if strict else v >= low) and (high is None or v <= high)
        if not ok:
            rel = ">" if strict else ">="
            upper = f" and <= {high:g}" if high is not None else ""
            self.fail(section, key, f"must be a number {rel} {low:g}{upper}")

    def integer(self, section: str, key: str, low: int, high: int | None = None) -> None:
        v = self.settings[section][key]
        if not isinstance(v, int) or isinstance(v, bool) or v < low or (high and v > high):
            upper = f" and <= {high}" if high is not None else ""
            self.fail(section, key, f"must be an integer >= {low}{upper}")


def _check_processing(c: _Checker) -> None:
    proc = c.settings["processing"]
    for key, allowed in _CHOICES.items():
        value = proc[key]
        if not any(value is a or (value == a and type(value) is type(a)) for a in allowed):
            c.fail("processing", key, f"is not one of {allowed}")
    if proc["phase"] not in ("auto", "fit") and not _is_range(proc["phase"]):
        c.fail("processing", "phase", 'use "auto", "fit" or [p0_deg, p1_deg]')
    if proc["crop"] != "auto" and not _is_range(proc["crop"]):
        c.fail("processing", "crop", 'use "auto" or [ppm_a, ppm_b]')
    regions = proc["regions"]
    if not isinstance(regions, (list, tuple)) or not all(_is_range(r) for r in regions):
        c.fail("processing", "regions", "use a list of [ppm_a, ppm_b] ranges")
    if proc["shift_mode"] == "regions" and not regions:
        c.fail("processing", "shift_mode", '"regions" needs processing.regions = [[a, b]]')
    if proc["noise"] == "region" and not _is_range(proc["noise_region"]):
        c.fail("processing", "noise", '"region" needs processing.noise_region = [a, b]')
    kernels = proc["kernels"]
    if not isinstance(kernels, (list, tuple)) or any(k not in KERNELS for k in kernels):
        c.fail("processing", "kernels", f"each one of {KERNELS}")
    if proc["points_per_decade"] != "auto":
        c.number("processing", "points_per_decade", 0, strict=True, high=MAX_POINTS_PER_DECADE)
    c.number("processing", "signal_threshold", 0, strict=True)
    c.number("processing", "extend_decades", 0, high=MAX_EXTEND_DECADES)
    c.number("processing", "noise_sigma", 0)
    c.number("processing", "min_peak_fraction", 0)
    if proc["max_shift_points"] != "auto":
        c.integer("processing", "max_shift_points", 0)
    if proc["line_broadening_hz"] not in ("auto", "truncation") and not (
        _number(proc["line_broadening_hz"]) and proc["line_broadening_hz"] >= 0
    ):
        c.fail("processing", "line_broadening_hz", 'use "auto", "truncation" or a number >= 0')
    c.integer("processing", "max_tau_points", 4)


#: Choices of ``output.tau_axis`` and ``output.map_table``.
TAU_AXIS_MODES = ("shade", "crop", "grid")
MAP_TABLES = ("csv", "tsv", "none")


def _check_output(c: _Checker) -> None:
    outp = c.settings["output"]
    formats = outp["formats"]
    if isinstance(formats, str):
        outp["formats"] = formats = [f.strip() for f in formats.split(",") if f.strip()]
    if not isinstance(formats, (list, tuple)) or any(f not in FORMATS for f in formats):
        c.fail("output", "formats", f"use a list of any of {FORMATS}")
    c.number("output", "width_mm", WIDTH_MM_RANGE[0], high=WIDTH_MM_RANGE[1])
    c.number("output", "font_size", FONT_SIZE_RANGE[0], high=FONT_SIZE_RANGE[1])
    c.integer("output", "dpi", DPI_RANGE[0], DPI_RANGE[1])
    c.number("output", "height_mm", 0, high=WIDTH_MM_RANGE[1])
    c.number("output", "peak_threshold", 0)
    if not isinstance(outp["topspin"], bool):
        c.fail("output", "topspin", "use true or false")
    tp = outp["topspin_procno"]
    if not isinstance(tp, int) or isinstance(tp, bool) or tp < 0:
        c.fail("output", "topspin_procno", "use a procno >= 1 (0: the first free one >= 999)")
    for key in ("title", "residuals"):
        if not isinstance(outp[key], bool):
            c.fail("output", key, "use true or false")
    if outp["tau_axis"] not in TAU_AXIS_MODES:
        c.fail("output", "tau_axis", f"use one of {', '.join(TAU_AXIS_MODES)}")
    if outp["map_table"] not in MAP_TABLES:
        c.fail("output", "map_table", f"use one of {', '.join(MAP_TABLES)}")
    for key in ("width_mm", "height_mm"):
        if outp[key] / 25.4 * outp["dpi"] > MAX_FIGURE_PIXELS:
            c.fail("output", key, f"at dpi = {outp['dpi']} gives more than "
                                  f"{MAX_FIGURE_PIXELS} pixels; lower the size or the dpi")
    for key in ("cmap_signed", "cmap_positive"):
        if not isinstance(outp[key], str):
            c.fail("output", key, "must be a matplotlib colormap name")
        if outp[key] not in ("RdBu_r", "viridis"):  # the defaults need no matplotlib
            import matplotlib

            if outp[key] not in matplotlib.colormaps:
                close = difflib.get_close_matches(outp[key], list(matplotlib.colormaps), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                c.fail("output", key, f"is not a matplotlib colour map{hint}")


def _check_inversion(c: _Checker) -> None:
    """Types of every solver option (ranges and names the solver checks itself).

    Each option must have the type it is declared with in :mod:`nmrilt.solver.options`:
    ``bool`` options true/false, ``int`` ones whole numbers, ``float`` ones finite numbers
    (``alpha_*`` at most :data:`MAX_ALPHA`); strings such as ``"auto"`` where declared.
    """
    from .solver.options import ExpertOptions, Options

    inv = c.settings["inversion"]
    if "max_iter" in inv:
        c.integer("inversion", "max_iter", 1)
    for key in ("tol", "alpha_00"):
        if key in inv:
            c.number("inversion", key, 0, strict=True)
    declared = {f.name: str(f.type) for cls in (Options, ExpertOptions)
                for f in dataclasses.fields(cls)}
    words = {"bool": "true or false", "int": "a whole number", "float": "a finite number",
             "str": 'a name such as "auto"', "None": "none"}
    for key, value in inv.items():
        kinds = declared.get(key, "Any").replace(" ", "").split("|")
        if "Any" in kinds or (value is None and "None" in kinds):
            continue
        ok = (("bool" in kinds and isinstance(value, bool))
              or ("int" in kinds and isinstance(value, int) and not isinstance(value, bool))
              or ("float" in kinds and _number(value))
              or ("str" in kinds and isinstance(value, str))
              or (kinds[0].startswith("tuple") and isinstance(value, (list, tuple))))
        if not ok:
            c.fail("inversion", key, "must be " + " or ".join(
                words.get(k, "a list of numbers") for k in kinds))
        if key.startswith("alpha") and _number(value) and value > MAX_ALPHA:
            c.fail("inversion", key, f"is too large (at most {MAX_ALPHA:g}; larger weights "
                                     f"flatten the map to zero)")


def _check_read(c: _Checker) -> None:
    """Types of the reader options nmrilt passes on (``pdata``, ``allow_partial``)."""
    for section in ("experiment", "read"):
        table = c.settings[section]
        pdata = table.get("pdata")
        if pdata is not None and (not isinstance(pdata, int) or isinstance(pdata, bool)
                                  or pdata < 1):
            c.fail(section, "pdata", "must be a procno (an integer >= 1)")
        if "allow_partial" in table and not isinstance(table["allow_partial"], bool):
            c.fail(section, "allow_partial", "use true or false")



def _check_uncertainty(c: _Checker) -> None:
    unc = c.settings["uncertainty"]
    if unc["resamples"] != "auto":
        c.integer("uncertainty", "resamples", 0)
        if 0 < unc["resamples"] < 4:
            c.fail("uncertainty", "resamples", "use 0 (off), \"auto\" or at least 4")
    c.number("uncertainty", "level", 0, strict=True)
    if not unc["level"] < 1:
        c.fail("uncertainty", "level", "must be a number > 0 and < 1, e.g. 0.95")
    c.integer("uncertainty", "seed", 0)
    c.number("uncertainty", "budget", 0)
    c.integer("uncertainty", "workers", 0)


def check_sections(sections: dict[str, dict[str, Any]], origins: dict[str, str]) -> None:
    """Check every known value of the merged ``sections`` (``formats`` strings are split)."""
    checker = _Checker(sections, origins)
    _check_processing(checker)
    _check_output(checker)
    _check_uncertainty(checker)
    _check_inversion(checker)
    _check_read(checker)
