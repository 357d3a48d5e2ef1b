"""Settings of the pipeline: typed sections, defaults, validation and ``nmrilt.toml`` files.

:func:`load_settings` resolves one :class:`Settings` object, validated completely before any
data are read, and the pipeline hands it down once.  Its six sections:

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
``uncertainty``
    Noise resampling: intervals in ``peaks.csv``, a standard-deviation map in
    ``result.h5`` (:class:`UncertaintySettings`).

Sources, later ones winning key by key: the defaults, the file given with ``--config``
(``config=``), ``nmrilt.toml`` in the experiment folder, then keyword arguments
(``nmrilt.run(exp, max_iter=50)``).  A keyword argument may name a section
(``processing={...}``) or a key of the ``processing``/``output`` sections (or
``resamples`` of ``uncertainty``) directly; the
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
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .config_checks import FORMATS, check_sections
from .errors import ConfigError

#: Name of the per-experiment settings file.
CONFIG_NAME = "nmrilt.toml"

#: Where keyword settings come from, in messages.
ARGUMENT = "argument"


@dataclass(frozen=True)
class ProcessingSettings:
    """How an experiment becomes an inversion problem (``[processing]``)."""

    #: "auto": use TopSpin's processed spectra when the reader returned them (or True/False).
    use_pdata: str | bool = "auto"
    #: "auto": the phase stored with the raw data by the spectrometer software (TopSpin's
    #: procs PHC0/PHC1) when there is one, else the fit to the peak phases; "fit": always
    #: the fit; or (p0_deg, p1_deg) (nmrglue convention: p0 + p1 * k / n, ppm increasing).
    phase: str | tuple[float, float] = "auto"
    #: Exponential line broadening of the FID before the FT (Hz); "auto": the operator's
    #: exponential broadening stored with the raw data (TopSpin's procs LB with WDW = EM)
    #: when there is one, else "truncation": just enough to remove truncation (0 for FIDs
    #: that have decayed).
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
    #: own (shift_mode = "points", crop = "auto"); 0: every peak above signal_threshold
    #: (absolute signal-to-noise, nmrilt.processing.detection) is kept.
    min_peak_fraction: float = 0.0
    #: Adjacent points (within a region) summed so that at most this many remain (0: no
    #: limit); "auto": 4608 data values / number of increments (at least 16), so that the
    #: bundled pseudo-3D example (144 increments: 32) runs in < 20 s.
    max_shift_points: str | int = "auto"
    #: "auto" (signal-free points), "imaginary" or "region" (with noise_region).
    noise: str = "auto"
    noise_region: tuple[float, ...] = ()
    #: A known noise sigma per spectrum point (or per intensity); 0: estimate it.
    noise_sigma: float = 0.0
    #: "auto": per-column noise sigma^2 = thermal (a + (epsilon A)^2), a and epsilon from the
    #: misfit of the columns (nmrilt.processing.noise_model; the identity on white-noise
    #: data); "thermal": the thermal estimate alone.
    noise_model: str = "auto"
    #: Per indirect dimension, slowest first; empty: from the experiment kind.
    kernels: tuple[str, ...] = ()
    #: Tau grid: extend_decades beyond the sampled range at each end, points_per_decade
    #: ("auto": 12 with one inverted dimension, 10 with two), at most max_tau_points per
    #: dimension.
    points_per_decade: float | str = "auto"
    extend_decades: float = 1.0
    max_tau_points: int = 96

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (tuples as lists)."""
        return _plain(asdict(self))


@dataclass(frozen=True)
class OutputSettings:
    """Figure formats, size and fonts (``[output]``)."""

    formats: tuple[str, ...] = FORMATS
    width_mm: float = 170.0
    #: 0: chosen from the layout.
    height_mm: float = 0.0
    font_size: float = 8.0
    dpi: int = 300
    cmap_signed: str = "RdBu_r"
    cmap_positive: str = "viridis"
    #: A component is listed when |integral| >= this fraction of the strongest one of the
    #: same ppm region (see nmrilt.output.components).
    peak_threshold: float = 0.15
    #: Also write the map as a TopSpin processed dataset pdata/<N> of a Bruker experiment
    #: (nmrilt.output.topspin); topspin_procno 0: nmrilt's own or the first free >= 999.
    topspin: bool = False
    topspin_procno: int = 0
    #: Figure title (the experiment folder) and residuals panel; false drops them.
    title: bool = True
    residuals: bool = True
    #: tau axes: "shade" (sampled range and a margin, the unsampled part shaded), "crop"
    #: (the sampled range only) or "grid" (the whole tau grid, unsampled part shaded).
    tau_axis: str = "shade"
    #: The map (g with its axes, one row per grid point) as "csv" (map.csv), "tsv"
    #: (map.tsv) or "none".
    map_table: str = "csv"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (tuples as lists)."""
        return _plain(asdict(self))


@dataclass(frozen=True)
class UncertaintySettings:
    """Noise resampling of the result (``[uncertainty]``, :mod:`nmrilt.uncertainty`)."""

    #: Resampled inversions: "auto" (40 when they fit in ``budget`` x the inversion time
    #: on this machine's cores, else none), or a number (0: none).
    resamples: str | int = "auto"
    #: Confidence level of the intervals in peaks.csv.
    level: float = 0.95
    #: Random seed: the same seed gives the same intervals, serially, on local processes
    #: or on a Dask cluster.
    seed: int = 0
    #: What "auto" may spend, in units of the inversion time.
    budget: float = 2.0
    #: Parallel processes for the resamples (0: one per core).
    workers: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary."""
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
    uncertainty : UncertaintySettings
    origins : mapping
        ``"section.key"`` -> where the value came from (a file path or ``"argument"``);
        keys left at their default are absent.
    """

    experiment: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    read: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    processing: ProcessingSettings = ProcessingSettings()
    inversion: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    output: OutputSettings = OutputSettings()
    uncertainty: UncertaintySettings = UncertaintySettings()
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The settings as plain sections (recorded in ``result.h5``)."""
        return {
            "experiment": copy.deepcopy(dict(self.experiment)),
            "read": copy.deepcopy(dict(self.read)),
            "processing": self.processing.to_dict(),
            "inversion": copy.deepcopy(dict(self.inversion)),
            "output": self.output.to_dict(),
            "uncertainty": self.uncertainty.to_dict(),
        }

    def read_options(self) -> dict[str, Any]:
        """Overrides for :func:`nmrilt.read`: ``experiment`` then ``read``.

        With them, under ``readers.recipes.ORIGINS_KEY``, where each recipe key came from
        (the file path or "argument"): the readers then do not read ``nmrilt.toml`` again
        and record the file as the recipe's provenance.
        """
        from .readers.recipes import ORIGINS_KEY, RECIPE_KEYS

        opts = copy.deepcopy({**self.experiment, **self.read})
        origins = {}
        for key in RECIPE_KEYS & set(opts):
            section = "read" if key in self.read else "experiment"
            origins[key] = self.origins.get(f"{section}.{key}", ARGUMENT)
        opts[ORIGINS_KEY] = origins
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
    """The solver's option names (``nmrilt.solver.options.OPTION_NAMES``: user and expert)."""
    from .solver.options import OPTION_NAMES

    return frozenset(OPTION_NAMES)


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
        elif key == "resamples":
            out["uncertainty"][key] = value
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
        uncertainty=UncertaintySettings(**sections["uncertainty"]),
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
    origins = dict(origins or {})
    check_sections(sections, origins)
    return _build(sections, origins)


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
    "UncertaintySettings",
    "defaults",
    "load_settings",
    "read_toml",
    "validate",
    "with_processing",
]
