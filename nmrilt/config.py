"""Settings of the pipeline: schema, defaults, validation and ``nmrilt.toml`` files.

Settings are a nested dictionary with five sections, each key with a default:

``experiment``, ``read``
    Overrides handed to :func:`nmrilt.read` (``kind``, ``axes``, ``pulse_program``,
    ``delays``, ``pdata`` ...; ``read`` wins).  Free-form: the readers validate them.  The
    readers also read both tables from the experiment folder's ``nmrilt.toml`` themselves.
``processing``
    How an experiment becomes an inversion problem (see :data:`DEFAULTS`).
``inversion``
    Options handed to :func:`nmrilt.invert` (``max_iter``, ``tol``, ``baseline``,
    ``nonneg``, ``alpha_00`` ...).  Free-form: the solver validates them.
``output``
    Figure formats, size and fonts.

Sources, later ones winning key by key: the defaults, the file given with ``--config``
(``config=``), ``nmrilt.toml`` in the experiment folder, then keyword arguments
(``nmrilt.run(exp, max_iter=50)``).  A keyword argument may name a section
(``processing={...}``) or a key of the ``processing``/``output`` sections directly; the
readers' recipe keys (``kind``, ``axes``, ``pulse_program``, ``delays`` ...) and ``pdata`` go
to ``read``; any other keyword is taken as a solver option.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .readers.recipes import RECIPE_KEYS

#: Name of the per-experiment settings file.
CONFIG_NAME = "nmrilt.toml"

#: Every setting with its default value.
DEFAULTS: dict[str, dict[str, Any]] = {
    # the readers' recipe table (kind, axes, delays ...; see docs/formats.md)
    "experiment": {},
    "read": {},
    "processing": {
        # "auto": use TopSpin's processed spectra when the reader returned them.
        "use_pdata": "auto",
        # "auto" or [p0_deg, p1_deg] (nmrglue convention: p0 + p1 * k / n).
        "phase": "auto",
        # Exponential line broadening of the FID before the FT (Hz), or "auto": just
        # enough to remove truncation (0 for FIDs that have decayed).
        "line_broadening_hz": "auto",
        # "none", "constant" or "linear": polynomial fitted per row to the signal-free points.
        "baseline": "linear",
        # "points" (identity dimension, every point), "regions" or "sum".
        "shift_mode": "points",
        # list of [ppm_a, ppm_b] ranges for shift_mode = "regions".
        "regions": [],
        # "auto" (where there is signal) or [ppm_a, ppm_b].
        "crop": "auto",
        # a point is signal when the strongest row exceeds this many noise sigmas.
        "signal_threshold": 6.0,
        # peaks lower than this fraction of the highest one open no signal region of
        # their own (shift_mode = "points", crop = "auto"; set crop to keep them).
        "min_peak_fraction": 0.05,
        # adjacent points (within a region) summed so that at most this many remain
        # (0: no limit); "auto": 4608 data values / number of increments (at least 16),
        # so that the bundled pseudo-3D example (144 increments: 32) runs in < 20 s.
        "max_shift_points": "auto",
        # "auto" (signal-free points), "imaginary" or "region" (with noise_region).
        "noise": "auto",
        "noise_region": [],
        # a known noise sigma per spectrum point (or per intensity); 0: estimate it.
        "noise_sigma": 0.0,
        # per indirect dimension, slowest first; empty: from the experiment kind.
        "kernels": [],
        # tau grid: extend_decades beyond the sampled range at each end,
        # points_per_decade, at most max_tau_points per dimension.
        "points_per_decade": 8.0,
        "extend_decades": 1.0,
        "max_tau_points": 32,
    },
    "inversion": {},
    "output": {
        "formats": ["png", "pdf", "svg"],
        "width_mm": 170.0,
        "height_mm": 0.0,  # 0: chosen from the layout
        "font_size": 8.0,
        "dpi": 300,
        "cmap_signed": "RdBu_r",
        "cmap_positive": "viridis",
        # a component is listed when |integral| >= this fraction of the strongest one
        # of the same ppm region (see nmrilt.output.components)
        "peak_threshold": 0.15,
        # also write the map as a TopSpin processed dataset pdata/<N> of a Bruker
        # experiment (nmrilt.topspin); topspin_procno 0: nmrilt's own or the first free >= 999
        "topspin": False,
        "topspin_procno": 0,
    },
}

SECTIONS = tuple(DEFAULTS)
_READ_KEYS = RECIPE_KEYS | {"pdata", "allow_partial"}
_CHOICES = {
    ("processing", "use_pdata"): ("auto", True, False),
    ("processing", "baseline"): ("none", "constant", "linear"),
    ("processing", "shift_mode"): ("points", "regions", "sum"),
    ("processing", "noise"): ("auto", "imaginary", "region"),
}
_KERNELS = ("exponential", "inversion_recovery", "saturation_recovery", "diffusion", "identity")
_FORMATS = ("png", "pdf", "svg")


def defaults() -> dict[str, dict[str, Any]]:
    """Return a fresh copy of :data:`DEFAULTS`."""
    return copy.deepcopy(DEFAULTS)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse one settings file.

    Raises
    ------
    ConfigError
        If the file is missing or is not valid TOML (the message gives the line).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None


def _route_flat(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort keyword settings into sections (see the module docstring)."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, value in flat.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"setting {key!r} must be a table/dict of settings")
            out[key].update(value)
        elif key in _READ_KEYS:
            out["read"][key] = value
        elif key in DEFAULTS["processing"]:
            out["processing"][key] = value
        elif key in DEFAULTS["output"]:
            out["output"][key] = value
        else:
            out["inversion"][key] = value
    return out


def _merge(base: dict[str, dict[str, Any]], new: dict[str, Any], origin: str) -> None:
    for section, table in new.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"{origin}: unknown section [{section}]; the sections are {', '.join(SECTIONS)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table of settings")
        for key, value in table.items():
            if section in ("processing", "output") and key not in DEFAULTS[section]:
                known = ", ".join(DEFAULTS[section])
                raise ConfigError(f"{origin}: unknown setting {section}.{key}; known: {known}")
            base[section][key] = value


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def validate(settings: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Check types and values of every known setting; return ``settings``.

    Raises
    ------
    ConfigError
        Naming the setting, the value found and what is allowed.
    """
    for (section, key), allowed in _CHOICES.items():
        value = settings[section][key]
        if not any(value is a or (value == a and type(value) is type(a)) for a in allowed):
            raise ConfigError(f"{section}.{key} = {value!r} is not one of {allowed}")
    proc, outp = settings["processing"], settings["output"]
    phase = proc["phase"]
    if phase != "auto" and not _is_range(phase):
        raise ConfigError(f"processing.phase = {phase!r}: use \"auto\" or [p0_deg, p1_deg]")
    if proc["crop"] != "auto" and not _is_range(proc["crop"]):
        raise ConfigError(f"processing.crop = {proc['crop']!r}: use \"auto\" or [ppm_a, ppm_b]")
    if not isinstance(proc["regions"], (list, tuple)) or not all(
        _is_range(r) for r in proc["regions"]
    ):
        raise ConfigError(
            f"processing.regions = {proc['regions']!r}: use a list of [ppm_a, ppm_b] ranges"
        )
    if proc["shift_mode"] == "regions" and not proc["regions"]:
        raise ConfigError('processing.shift_mode = "regions" needs processing.regions = [[a, b]]')
    if proc["noise"] == "region" and not _is_range(proc["noise_region"]):
        raise ConfigError('processing.noise = "region" needs processing.noise_region = [a, b]')
    for key in ("kernels",):
        bad = [k for k in proc[key] if k not in _KERNELS]
        if not isinstance(proc[key], (list, tuple)) or bad:
            raise ConfigError(f"processing.kernels = {proc[key]!r}: each one of {_KERNELS}")
    positive = {
        ("processing", "points_per_decade"): proc["points_per_decade"],
        ("processing", "signal_threshold"): proc["signal_threshold"],
        ("output", "width_mm"): outp["width_mm"],
        ("output", "font_size"): outp["font_size"],
        ("output", "dpi"): outp["dpi"],
    }
    nonneg = {
        ("processing", "extend_decades"): proc["extend_decades"],
        ("processing", "noise_sigma"): proc["noise_sigma"],
        ("processing", "min_peak_fraction"): proc["min_peak_fraction"],
        ("output", "height_mm"): outp["height_mm"],
        ("output", "peak_threshold"): outp["peak_threshold"],
    }
    for (section, key), value in positive.items():
        if not _number(value) or value <= 0:
            raise ConfigError(f"{section}.{key} = {value!r} must be a number > 0")
    for (section, key), value in nonneg.items():
        if not _number(value) or value < 0:
            raise ConfigError(f"{section}.{key} = {value!r} must be a number >= 0")
    msp = proc["max_shift_points"]
    if msp != "auto" and (not isinstance(msp, int) or isinstance(msp, bool) or msp < 0):
        raise ConfigError(
            f"processing.max_shift_points = {msp!r}: use \"auto\" or an integer >= 0"
        )
    lb = proc["line_broadening_hz"]
    if lb != "auto" and (not _number(lb) or lb < 0):
        raise ConfigError(f"processing.line_broadening_hz = {lb!r}: use \"auto\" or a number >= 0")
    if not isinstance(proc["max_tau_points"], int) or proc["max_tau_points"] < 4:
        raise ConfigError(
            f"processing.max_tau_points = {proc['max_tau_points']!r} must be an integer >= 4"
        )
    if not isinstance(outp["topspin"], bool):
        raise ConfigError(f"output.topspin = {outp['topspin']!r}: use true or false")
    tp = outp["topspin_procno"]
    if not isinstance(tp, int) or isinstance(tp, bool) or tp < 0:
        raise ConfigError(
            f"output.topspin_procno = {tp!r}: use a procno >= 1 (0: the first free one >= 999)"
        )
    formats = outp["formats"]
    if isinstance(formats, str):
        outp["formats"] = formats = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in _FORMATS]
    if bad:
        raise ConfigError(f"output.formats: {bad} not supported; use any of {_FORMATS}")
    return settings


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_settings(
    expdir: str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, dict[str, Any]]:
    """Resolve the settings for one experiment.

    Parameters
    ----------
    expdir : path, optional
        Experiment folder; its ``nmrilt.toml`` is read when present.
    config : path or dict, optional
        A settings file (``--config``) or an already parsed dictionary of sections.
    **overrides
        Keyword settings (see the module docstring for how they are routed).

    Returns
    -------
    dict
        ``{"read": ..., "processing": ..., "inversion": ..., "output": ...}``, validated.

    Raises
    ------
    ConfigError
        If a file is unreadable or a setting is unknown or invalid.
    """
    settings = defaults()
    if config is not None:
        if isinstance(config, dict):
            _merge(settings, config, "config")
        else:
            _merge(settings, read_toml(config), str(config))
    if expdir is not None:
        local = Path(expdir) / CONFIG_NAME
        if local.is_file():
            _merge(settings, read_toml(local), str(local))
    _merge(settings, _route_flat(overrides), "keyword settings")
    return validate(settings)
