"""Settings of the pipeline: typed sections, defaults, validation and ``nmrilt.toml`` files.

:func:`load_settings` resolves one :class:`Settings` object, validated completely before any
data are read, and the pipeline hands it down once.  Its five sections:

``experiment``, ``read``
    Overrides handed to :func:`nmrilt.read` (``kind``, ``axes``, ``pulse_program``,
    ``delays``, ``pdata`` ...; ``read`` wins).  Keys: the readers' recipe keys
    (``readers.recipes.RECIPE_KEYS``); ``read`` also takes the readers' own options
    (``pdata``, ``allow_partial``, ``group_delay``, ``roles`` ...).
``processing``
    How an experiment becomes an inversion problem (:class:`ProcessingSettings`).
``inversion``
    Options handed to :func:`nmrilt.invert` (``max_iter``, ``tol``, ``baseline``,
    ``nonneg``, ``alpha_00`` ...); keys are checked against the solver's option names.
``output``
    Figure formats, size and fonts (:class:`OutputSettings`).

Sources, later ones winning key by key: the defaults, the file given with ``--config``
(``config=``), ``nmrilt.toml`` in the experiment folder, then keyword arguments
(``nmrilt.run(exp, max_iter=50)``).  A keyword argument may name a section
(``processing={...}``) or a key of the ``processing``/``output`` sections directly; the
readers' recipe keys (``kind``, ``axes``, ``pulse_program``, ``delays`` ...) and reader
options (``pdata`` ...) go to ``read``; any other keyword is taken as a solver option.

An unknown or misspelled key in any section, a value of the wrong type or out of range, or
a file that is not TOML is a :class:`~nmrilt.errors.ConfigError` naming the file (or
"argument"), the key, the value and what is valid (the closest valid key for a typo).

``import nmrilt.config`` stays light: the readers and the solver are asked for their key
names only when settings are resolved.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError

#: Name of the per-experiment settings file.
CONFIG_NAME = "nmrilt.toml"

#: Where keyword settings come from, in messages.
ARGUMENT = "argument"

_FORMATS = ("png", "pdf", "svg")
_KERNELS = ("exponential", "inversion_recovery", "saturation_recovery", "diffusion", "identity")
#: Sane limits of the figure settings (outside them a figure is unreadable or huge).
DPI_RANGE = (30, 2400)
WIDTH_MM_RANGE = (20.0, 2000.0)
FONT_SIZE_RANGE = (2.0, 72.0)


@dataclass(frozen=True)
class ProcessingSettings:
    """How an experiment becomes an inversion problem (``[processing]``)."""

    #: "auto": use TopSpin's processed spectra when the reader returned them (or True/False).
    use_pdata: str | bool = "auto"
    #: "auto" or (p0_deg, p1_deg) (nmrglue convention: p0 + p1 * k / n).
    phase: str | tuple[float, float] = "auto"
    #: Exponential line broadening of the FID before the FT (Hz), or "auto": just enough to
    #: remove truncation (0 for FIDs that have decayed).
    line_broadening_hz: str | float = "auto"
    #: "none", "constant" or "linear": polynomial fitted per row to the signal-free points.
    baseline: str = "linear"
    #: "points" (identity dimension, every point), "regions" or "sum".
    shift_mode: str = "points"
    #: (ppm_a, ppm_b) ranges for shift_mode = "regions".
    regions: tuple[tuple[float, float], ...] = ()
    #: "auto" (where there is signal) or (ppm_a, ppm_b).
    crop: str | tuple[float, float] = "auto"
    #: A point is signal when the strongest row exceeds this many noise sigmas.
    signal_threshold: float = 6.0
    #: Peaks lower than this fraction of the highest one open no signal region of their
    #: own (shift_mode = "points", crop = "auto"; set crop to keep them).
    min_peak_fraction: float = 0.05
    #: Adjacent points (within a region) summed so that at most this many remain (0: no
    #: limit); "auto": 4608 data values / number of increments (at least 16), so that the
    #: bundled pseudo-3D example (144 increments: 32) runs in < 20 s.
    max_shift_points: str | int = "auto"
    #: "auto" (signal-free points), "imaginary" or "region" (with noise_region).
    noise: str = "auto"
    noise_region: tuple[float, ...] = ()
    #: A known noise sigma per spectrum point (or per intensity); 0: estimate it.
    noise_sigma: float = 0.0
    #: Per indirect dimension, slowest first; empty: from the experiment kind.
    kernels: tuple[str, ...] = ()
    #: Tau grid: extend_decades beyond the sampled range at each end, points_per_decade,
    #: at most max_tau_points per dimension.
    points_per_decade: float = 8.0
    extend_decades: float = 1.0
    max_tau_points: int = 32

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (tuples as lists)."""
        return _plain(asdict(self))


@dataclass(frozen=True)
class OutputSettings:
    """Figure formats, size and fonts (``[output]``)."""

    formats: tuple[str, ...] = _FORMATS
    width_mm: float = 170.0
    #: 0: chosen from the layout.
    height_mm: float = 0.0
    font_size: float = 8.0
    dpi: int = 300
    cmap_signed: str = "RdBu_r"
    cmap_positive: str = "viridis"
    #: A component is listed when |integral| >= this fraction of the strongest one of the
    #: same ppm region (see nmrilt.results.components).
    peak_threshold: float = 0.15

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (tuples as lists)."""
        return _plain(asdict(self))


@dataclass(frozen=True)
class Settings:
    """Every setting of one run, validated; built by :func:`load_settings`.

    Attributes
    ----------
    experiment, read : mapping
        Reader overrides (recipe keys, reader options); ``read`` wins.
    processing : ProcessingSettings
    inversion : mapping
        Solver options for :func:`nmrilt.invert`.
    output : OutputSettings
    origins : mapping
        ``"section.key"`` -> where the value came from (a file path or ``"argument"``);
        keys left at their default are absent.
    """

    experiment: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    read: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    processing: ProcessingSettings = ProcessingSettings()
    inversion: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    output: OutputSettings = OutputSettings()
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The settings as plain sections (recorded in ``result.h5``)."""
        return {
            "experiment": copy.deepcopy(dict(self.experiment)),
            "read": copy.deepcopy(dict(self.read)),
            "processing": self.processing.to_dict(),
            "inversion": copy.deepcopy(dict(self.inversion)),
            "output": self.output.to_dict(),
        }

    def read_options(self) -> dict[str, Any]:
        """Overrides for :func:`nmrilt.read`: ``experiment`` then ``read``."""
        opts = copy.deepcopy({**self.experiment, **self.read})
        if self.processing.use_pdata is True:
            opts.setdefault("pdata", 1)
        return opts


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


#: Every setting with its default value (plain sections, as recorded in ``result.h5``).
DEFAULTS: dict[str, dict[str, Any]] = Settings().to_dict()

SECTIONS = tuple(DEFAULTS)
_CHOICES = {
    "use_pdata": ("auto", True, False),
    "baseline": ("none", "constant", "linear"),
    "shift_mode": ("points", "regions", "sum"),
    "noise": ("auto", "imaginary", "region"),
}


def defaults() -> dict[str, dict[str, Any]]:
    """Return a fresh copy of :data:`DEFAULTS`."""
    return copy.deepcopy(DEFAULTS)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse one settings file.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable or not valid TOML (the message gives the line).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"settings file {path} is not valid TOML: {exc}; fix or delete the file"
        ) from None
    except OSError as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc.strerror or exc}") from None


# --- the valid keys --------------------------------------------------------------------------


def recipe_keys() -> frozenset[str]:
    """The readers' recipe keys (``[experiment]``)."""
    from .readers.recipes import RECIPE_KEYS

    return frozenset(RECIPE_KEYS)


def read_keys() -> frozenset[str]:
    """Recipe keys and every built-in reader's options (``[read]``)."""
    from .readers import READERS

    options = {k for reader in READERS for k in getattr(reader, "OPTIONS", ())}
    return recipe_keys() | options


def inversion_keys() -> frozenset[str]:
    """The solver's option names (keys of ``nmrilt.solver.DEFAULTS``)."""
    from .solver import DEFAULTS as SOLVER_DEFAULTS

    return frozenset(SOLVER_DEFAULTS)


def _section_keys(section: str) -> frozenset[str]:
    if section == "experiment":
        return recipe_keys()
    if section == "read":
        return read_keys()
    if section == "inversion":
        return inversion_keys()
    return frozenset(DEFAULTS[section])


def _closest(key: str, valid: frozenset[str] | tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else f"valid: {', '.join(sorted(valid))}"


# --- merging the sources ---------------------------------------------------------------------


def _route_flat(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort keyword settings into sections (see the module docstring)."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    read = read_keys()
    for key, value in flat.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{ARGUMENT}: setting {key!r} must be a table/dict of settings")
            out[key].update(value)
        elif key in read:
            out["read"][key] = value
        elif key in DEFAULTS["processing"]:
            out["processing"][key] = value
        elif key in DEFAULTS["output"]:
            out["output"][key] = value
        else:
            out["inversion"][key] = value
    return out


def _merge(
    base: dict[str, dict[str, Any]], new: dict[str, Any], origin: str, origins: dict[str, str]
) -> None:
    for section, table in new.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"{origin}: unknown section [{section}] ({_closest(section, SECTIONS)}); "
                f"the sections are {', '.join(SECTIONS)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table of settings")
        valid = _section_keys(section)
        for key, value in table.items():
            if key not in valid:
                raise ConfigError(
                    f"{origin}: unknown setting {section}.{key} ({_closest(key, valid)})"
                )
            base[section][key] = value
            origins[f"{section}.{key}"] = origin


# --- checking values -------------------------------------------------------------------------


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
    if proc["phase"] != "auto" and not _is_range(proc["phase"]):
        c.fail("processing", "phase", 'use "auto" or [p0_deg, p1_deg]')
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
    if not isinstance(kernels, (list, tuple)) or any(k not in _KERNELS for k in kernels):
        c.fail("processing", "kernels", f"each one of {_KERNELS}")
    c.number("processing", "points_per_decade", 0, strict=True)
    c.number("processing", "signal_threshold", 0, strict=True)
    c.number("processing", "extend_decades", 0)
    c.number("processing", "noise_sigma", 0)
    c.number("processing", "min_peak_fraction", 0)
    if proc["max_shift_points"] != "auto":
        c.integer("processing", "max_shift_points", 0)
    if proc["line_broadening_hz"] != "auto" and not (
        _number(proc["line_broadening_hz"]) and proc["line_broadening_hz"] >= 0
    ):
        c.fail("processing", "line_broadening_hz", 'use "auto" or a number >= 0')
    c.integer("processing", "max_tau_points", 4)


def _check_output(c: _Checker) -> None:
    outp = c.settings["output"]
    formats = outp["formats"]
    if isinstance(formats, str):
        outp["formats"] = formats = [f.strip() for f in formats.split(",") if f.strip()]
    if not isinstance(formats, (list, tuple)) or any(f not in _FORMATS for f in formats):
        c.fail("output", "formats", f"use a list of any of {_FORMATS}")
    c.number("output", "width_mm", WIDTH_MM_RANGE[0], high=WIDTH_MM_RANGE[1])
    c.number("output", "font_size", FONT_SIZE_RANGE[0], high=FONT_SIZE_RANGE[1])
    c.integer("output", "dpi", DPI_RANGE[0], DPI_RANGE[1])
    c.number("output", "height_mm", 0, high=WIDTH_MM_RANGE[1])
    c.number("output", "peak_threshold", 0)
    for key in ("cmap_signed", "cmap_positive"):
        if not isinstance(outp[key], str):
            c.fail("output", key, "must be a matplotlib colormap name")


def _check_inversion(c: _Checker) -> None:
    """Type checks of the most used solver options; the solver checks the rest."""
    inv = c.settings["inversion"]
    if "max_iter" in inv:
        c.integer("inversion", "max_iter", 1)
    for key in ("tol", "alpha_00"):
        if key in inv:
            c.number("inversion", key, 0, strict=True)
    for key in ("nonneg", "baseline"):
        if key in inv and not isinstance(inv[key], bool):
            c.fail("inversion", key, "must be true or false")


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _build(sections: dict[str, dict[str, Any]], origins: dict[str, str]) -> Settings:
    proc = {k: _tuples(v) for k, v in sections["processing"].items()}
    outp = {k: _tuples(v) for k, v in sections["output"].items()}
    return Settings(
        experiment=MappingProxyType(dict(sections["experiment"])),
        read=MappingProxyType(dict(sections["read"])),
        processing=ProcessingSettings(**proc),
        inversion=MappingProxyType(dict(sections["inversion"])),
        output=OutputSettings(**outp),
        origins=MappingProxyType(dict(origins)),
    )


def validate(
    sections: dict[str, dict[str, Any]], origins: dict[str, str] | None = None
) -> Settings:
    """Check the type and value of every setting and build the :class:`Settings`.

    Parameters
    ----------
    sections : dict
        Complete sections (defaults filled in), as merged by :func:`load_settings`.
    origins : dict, optional
        ``"section.key"`` -> file path or ``"argument"``, quoted in messages.

    Raises
    ------
    ConfigError
        Naming the origin, the setting, the value found and what is allowed.
    """
    checker = _Checker(sections, dict(origins or {}))
    _check_processing(checker)
    _check_output(checker)
    _check_inversion(checker)
    return _build(sections, checker.origins)


def load_settings(
    expdir: str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve and validate the settings for one experiment, before any data are read.

    Parameters
    ----------
    expdir : path, optional
        Experiment folder; its ``nmrilt.toml`` is read when present (the only place the
        file is read: its ``[experiment]`` table reaches the readers through
        :meth:`Settings.read_options`, with the file recorded in :attr:`Settings.origins`).
    config : path or dict, optional
        A settings file (``--config``) or an already parsed dictionary of sections.
    **overrides
        Keyword settings (see the module docstring for how they are routed).

    Returns
    -------
    Settings
        Typed, frozen and validated.

    Raises
    ------
    ConfigError
        If a file is unreadable or not TOML, or a setting is unknown (the closest valid
        key is suggested) or invalid; the message names the file or "argument".
    """
    sections = defaults()
    origins: dict[str, str] = {}
    if config is not None:
        if isinstance(config, dict):
            _merge(sections, config, "config", origins)
        else:
            _merge(sections, read_toml(config), str(config), origins)
    if expdir is not None:
        local = Path(expdir) / CONFIG_NAME
        if local.is_file():
            _merge(sections, read_toml(local), str(local), origins)
    _merge(sections, _route_flat(overrides), ARGUMENT, origins)
    return validate(sections, origins)


def with_processing(
    base: ProcessingSettings | None = None, **overrides: Any
) -> ProcessingSettings:
    """``base`` (default: the defaults) with keyword overrides, validated.

    The Python API's ``process(exp, shift_mode="sum")``; an unknown key is a ConfigError.
    """
    base = base or ProcessingSettings()
    return load_settings(processing={**base.to_dict(), **overrides}).processing


__all__ = [
    "CONFIG_NAME",
    "DEFAULTS",
    "OutputSettings",
    "ProcessingSettings",
    "Settings",
    "defaults",
    "load_settings",
    "read_toml",
    "validate",
    "with_processing",
]
