"""Pulse program -> experiment kind + axis recipe.

A *recipe* says, for each indirect dimension of a Bruker pseudo-nD experiment, where
its coordinates come from (a list file, a formula over a list and acquisition
parameters, or a plain index) and which role/unit the axis has.  Recipes come from, in
order of precedence:

1. keyword overrides given to :func:`nmrilt.read` (``kind=``, ``axes=``, ``delays=``,
   ``pulse_program=`` ...);
2. the ``[experiment]`` table of ``nmrilt.toml`` in the experiment folder (same keys);
3. the built-in table for the pulse program (:func:`builtin_recipe`).

Axis specifications (``axes`` entries, one per indirect dimension in TopSpin order F1,
F2 — i.e. ``acqu2s`` for pseudo-2D; ``acqu3s`` then ``acqu2s`` for pseudo-3D) are either
one of the names in :data:`AXIS_SHORTCUTS` or a table
``{name = "tau", list = "vdlist", role = "delay", unit = "s", scale = 1.0}`` whose values
are ``list values × scale`` (or ``values = [...]`` given literally).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nmrilt.errors import ConfigError, ParameterFileError, ReadError

from .checks import checked
from .experiment import AXIS_ROLES, EXPERIMENT_KINDS, KINDS
from .lists import ParsedList
from .pulseprogram import (
    PulseProgram,
    PulseProgramError,
    diffusion_annotation,
    gradient_calibration,
    shape_integral,
    vclist_loop_duration,
)

#: Gyromagnetic ratios in rad s^-1 T^-1 (CODATA / IUPAC values; sign dropped, b uses γ²).
GAMMA_RAD_S_T: dict[str, float] = {
    "1H": 267.5221874e6,
    "2H": 41.065e6,
    "3He": 203.789e6,
    "7Li": 103.962e6,
    "11B": 85.847e6,
    "13C": 67.2828e6,
    "15N": 27.116e6,
    "17O": 36.264e6,
    "19F": 251.815e6,
    "23Na": 70.761e6,
    "27Al": 69.763e6,
    "29Si": 53.190e6,
    "31P": 108.291e6,
    "129Xe": 74.521e6,
}

#: G/cm -> T/m.
GAUSS_PER_CM_TO_T_PER_M = 1e-2

#: Recipe keys accepted from overrides and from ``nmrilt.toml`` ``[experiment]``.
RECIPE_KEYS = frozenset(
    {"kind", "axes", "pulse_program", "delays", "big_delta", "little_delta", "tau", "gamma"}
)
#: Override key through which a caller that has already read ``nmrilt.toml`` (the pipeline,
#: through :mod:`nmrilt.config`) passes the file's recipe keys as overrides and says where
#: each one came from: ``{key: "/path/nmrilt.toml" or "argument"}``.  The readers then do
#: not read the file again, and the recipe's provenance names the file.
ORIGINS_KEY = "recipe_origins"


@dataclass(frozen=True)
class AxisSpec:
    """How to build one indirect axis.

    Attributes
    ----------
    name, role, unit : str
        The resulting :class:`~nmrilt.readers.Axis` label, role and unit.
    source : str
        ``"list"`` (values = list × scale), ``"echo_time"``, ``"b_value"``,
        ``"gradient"``, ``"index"`` or ``"values"`` (literal values).
    list_name : str
        List file the values come from (``vdlist``, ``vclist``, ``difflist`` ...).
    scale : float
        Multiplier applied to the list values (``source == "list"``).
    values : tuple of float
        Literal values (``source == "values"``).
    """

    name: str
    role: str
    unit: str
    source: str
    list_name: str = ""
    scale: float = 1.0
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """Experiment kind and one :class:`AxisSpec` per indirect dimension (F1 first)."""

    kind: str
    axes: tuple[AxisSpec, ...]
    origin: str
    options: dict[str, Any] = field(default_factory=dict)


#: Named axis specifications usable in ``axes``.
AXIS_SHORTCUTS: dict[str, AxisSpec] = {
    "vdlist": AxisSpec("vd", "delay", "s", "list", "vdlist"),
    "delay": AxisSpec("vd", "delay", "s", "list", "vdlist"),
    "vclist": AxisSpec("vc", "index", "", "list", "vclist"),
    "echo_time": AxisSpec("echo_time", "echo", "s", "echo_time", "vclist"),
    "b_value": AxisSpec("b", "b_value", "s/m^2", "b_value", "difflist"),
    "gradient": AxisSpec("g", "gradient", "T/m", "gradient", "difflist"),
    "vtlist": AxisSpec("temperature", "temperature", "K", "list", "vtlist"),
    "temperature": AxisSpec("temperature", "temperature", "K", "list", "vtlist"),
    "vplist": AxisSpec("vp", "index", "s", "list", "vplist"),
    "fq1list": AxisSpec("fq1", "index", "Hz", "list", "fq1list"),
    "index": AxisSpec("index", "index", "", "index"),
}

#: Default axes (TopSpin order F1, F2) for an experiment kind given without ``axes``
#: (a view of :data:`~nmrilt.readers.experiment.KINDS`).
KIND_DEFAULT_AXES: dict[str, tuple[str, ...]] = {
    k.name: k.default_axes for k in KINDS.values() if k.default_axes
}

#: Role a single overriding ``delays=`` axis takes for each kind (a view of ``KINDS``).
KIND_ROLE: dict[str, tuple[str, str, str]] = {
    k.name: k.delays_axis for k in KINDS.values() if k.delays_axis
}

# Built-in pulse-program families: (regex on the lower-case name, kind, axes).
_BUILTIN: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"^t1ir_?cpmg|^t1irt2|^irt2cpmg", "t1_t2", ("vdlist", "echo_time")),
    (r"^t1ir", "t1_ir", ("vdlist",)),
    (r"satrec|^t1sr", "t1_sr", ("vdlist",)),
    (r"^cpmg", "t2_cpmg", ("echo_time",)),
    (r"^d?ste(bp)?gp|^led(bp)?gp|^diffste", "diffusion", ("b_value",)),
)


def builtin_recipe(pulse_program: str) -> Recipe | None:
    """Return the built-in recipe of a Bruker pulse program, or ``None`` if unknown.

    Known families: ``t1ir*`` (T1 inversion recovery, vdlist), ``*satrec*``/``t1sr*``
    (saturation recovery, vdlist), ``cpmg*`` (T2, vclist × echo period),
    ``stebpgp1s``/``ledbpgp2s``/``dstebpgp3s``/``stegp1s``/``ledgp2s``/``diffSte``
    (diffusion, difflist → b) and ``t1ir_cpmg``/``t1irt2cpmg`` (pseudo-3D T1–T2).
    """
    name = pulse_program.strip().lower()
    for pattern, kind, axes in _BUILTIN:
        if re.search(pattern, name):
            return Recipe(kind, tuple(AXIS_SHORTCUTS[a] for a in axes), f"built-in ({name})")
    return None


def read_toml_recipe(
    folder: Path, overrides: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], Path | None]:
    """Read the recipe keys of ``folder/nmrilt.toml`` (empty and ``None`` if there are none).

    The ``[experiment]`` table is the reader's; recipe keys in the pipeline's ``[read]``
    table (same names) are honoured too and win.  Other tables are ignored.  When the
    overrides carry :data:`ORIGINS_KEY`, the caller has read the file already: it is not
    read again (the path is returned when some override came from it).

    Raises
    ------
    ConfigError
        If the file is not valid TOML or ``[experiment]`` has unknown keys.
    """
    path = folder / "nmrilt.toml"
    if not path.is_file():
        return {}, None
    if overrides is not None and ORIGINS_KEY in overrides:
        from_file = str(path) in set(overrides[ORIGINS_KEY].values())
        return {}, (path if from_file else None)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or delete it") from None
    table = doc.get("experiment", {})
    read_table = doc.get("read", {})
    if not isinstance(table, dict) or not isinstance(read_table, dict):
        raise ConfigError(f"{path}: 'experiment' and 'read' must be tables ([experiment])")
    unknown = set(table) - RECIPE_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {sorted(unknown)} in [experiment]; allowed: "
            f"{sorted(RECIPE_KEYS)}"
        )
    merged = dict(table)
    # the pipeline's [read] section carries the same keys (plus reader options it passes
    # itself); its recipe keys win over [experiment]
    merged.update({k: v for k, v in read_table.items() if k in RECIPE_KEYS})
    if not merged:
        return {}, None
    return merged, path


def _floats(values: Any, what: str) -> tuple[float, ...]:
    """Finite numbers from a settings value, or :class:`ConfigError` naming ``what``."""
    try:
        out = tuple(float(v) for v in np.ravel(np.asarray(values, dtype=object)))
    except (TypeError, ValueError, OverflowError):
        out = (float("nan"),)
    if not out or not all(np.isfinite(out)):
        raise ConfigError(f"{what} must be finite numbers, got {str(values)[:60]}")
    return out


def _spec_from(entry: Any, where: str) -> AxisSpec:
    if isinstance(entry, str):
        if entry not in AXIS_SHORTCUTS:
            raise ConfigError(
                f"{where}: unknown axis {entry!r}; use one of {sorted(AXIS_SHORTCUTS)} or a "
                f'table such as {{name = "tau", list = "vdlist", role = "delay", unit = "s"}}'
            )
        return AXIS_SHORTCUTS[entry]
    if isinstance(entry, Mapping):
        role = str(entry.get("role", "index"))
        if role not in AXIS_ROLES:
            raise ConfigError(f"{where}: axis role {role!r} is not one of {AXIS_ROLES}")
        name = str(entry.get("name", role))
        unit = str(entry.get("unit", ""))
        if "values" in entry:
            vals = _floats(entry["values"], f"{where}: axis {name!r} values")
            return AxisSpec(name, role, unit, "values", values=vals)
        if "list" in entry:
            scale = _floats([entry.get("scale", 1.0)], f"{where}: axis {name!r} scale")[0]
            return AxisSpec(name, role, unit, "list", str(entry["list"]), scale)
        raise ConfigError(f"{where}: axis table needs 'list' or 'values': {dict(entry)}")
    raise ConfigError(f"{where}: axis entry {entry!r} must be a name or a table")


def resolve_recipe(
    pulse_program: str,
    overrides: Mapping[str, Any],
    toml_table: Mapping[str, Any],
    toml_path: Path | None,
    n_indirect: int,
) -> Recipe | None:
    """Combine overrides, ``nmrilt.toml`` and the built-in table into one recipe.

    Returns ``None`` when nothing is known about the pulse program (the caller raises
    :class:`~nmrilt.errors.UnknownPulseProgramError` for pseudo-nD data).
    """
    merged: dict[str, Any] = dict(toml_table)
    merged.update({k: v for k, v in overrides.items() if k in RECIPE_KEYS and v is not None})
    given = sorted(k for k in overrides if k in RECIPE_KEYS)
    origins = overrides.get(ORIGINS_KEY) or {}
    if given and origins:
        # recorded per key by the caller that read nmrilt.toml (keyword settings: override)
        found = {origins.get(k, "argument") for k in given}
        origin = ", ".join(sorted("override" if o == "argument" else o for o in found))
    else:
        origin = "override" if given else str(toml_path)
    options = {k: merged[k] for k in ("big_delta", "little_delta", "tau", "gamma") if k in merged}
    base = builtin_recipe(str(merged.get("pulse_program", pulse_program)))
    kind = merged.get("kind")
    if kind is not None and kind not in EXPERIMENT_KINDS:
        raise ConfigError(f"kind {kind!r} ({origin}) is not one of {EXPERIMENT_KINDS}")
    if "axes" in merged:
        axes_in = merged["axes"]
        if isinstance(axes_in, (str, Mapping)):
            axes_in = [axes_in]
        axes = tuple(_spec_from(a, origin) for a in axes_in)
    elif "delays" in merged and n_indirect != 1:
        raise ConfigError(
            f"delays= gives one axis but the data have {n_indirect} indirect dimensions; use "
            f'axes = [{{name = "...", values = [...], role = "..."}}, ...] (one per dimension)'
        )
    elif "delays" in merged:
        k = kind or (base.kind if base else "unknown")
        name, role, unit = KIND_ROLE.get(k, ("delay", "delay", "s"))
        vals = _floats(merged["delays"], f"delays ({origin})")
        axes = (AxisSpec(name, role, unit, "values", values=vals),)
    elif kind is not None and kind in KIND_DEFAULT_AXES:
        axes = tuple(AXIS_SHORTCUTS[a] for a in KIND_DEFAULT_AXES[kind])
    elif base is not None:
        axes = base.axes
    elif kind is not None:
        axes = tuple(AXIS_SHORTCUTS["index"] for _ in range(n_indirect))
    else:
        return None
    if kind is None:
        kind = base.kind if base is not None else "unknown"
    if base is not None and not any(k in merged for k in ("kind", "axes", "delays")):
        origin = base.origin
    if len(axes) != n_indirect:
        raise ConfigError(
            f"recipe ({origin}) gives {len(axes)} indirect axes but the data have {n_indirect} "
            f"indirect dimension(s); list one axis per dimension in TopSpin order (F1 first)"
        )
    return Recipe(kind, axes, origin, options)


def example_recipe_text(kind: str = "t1_ir") -> str:
    """The ``nmrilt.toml`` snippet quoted in error messages."""
    axes = ", ".join(f'"{a}"' for a in KIND_DEFAULT_AXES.get(kind, ("vdlist",)))
    return f'[experiment]\nkind = "{kind}"\naxes = [{axes}]'


def acqus_array(acqus: Mapping[str, Any], name: str, index: int, where: str = "acqus"
                ) -> float:
    """``acqus[name][index]`` (e.g. D[20] in s, P[30] in µs), checked finite and >= 0.

    Raises
    ------
    ParameterFileError
        The array is missing, shorter than ``index + 1`` or the value is not valid.
    """
    values = acqus.get(name)
    if not isinstance(values, list) or len(values) <= index:
        have = len(values) if isinstance(values, list) else 0
        raise ParameterFileError(
            f"{where}: the {name} array holds {have} values, {name}[{index}] is needed; "
            f"copy an intact acqus from the spectrometer"
        )
    return checked(values[index], f"{name}[{index}]", where, minimum=0)


def echo_times(vc: np.ndarray, acqus: Mapping[str, Any], where: str = "acqus",
               pulse_program: str = "") -> np.ndarray:
    """CPMG echo-train duration: ``vc × (2·D20 + P2·1e-6)`` in s (Bruker ``cpmg``)."""
    d20 = acqus_array(acqus, "D", 20, where)
    p2 = acqus_array(acqus, "P", 2, where) * 1e-6
    if d20 <= 0:
        local = (f"; the pulse program '{pulse_program}' is not a known CPMG and no "
                 f"loop counted by the vclist was found in its text (the pulseprogram file)"
                 if pulse_program and builtin_recipe(pulse_program) is None else "")
        raise ReadError(
            f"{where}: D[20] (CPMG half echo delay) is 0, so echo times cannot be computed"
            f"{local}; fix the acqus or give the echo times with delays=[...] or an "
            f'nmrilt.toml axes table [{{name = "echo_time", list = "vclist", role = "echo", '
            f'unit = "s", scale = <seconds per count>}}]'
        )
    return np.asarray(vc, dtype=float) * (2.0 * d20 + p2)


def diffusion_parameters(
    pulse_program: str, acqus: Mapping[str, Any], nucleus: str, options: Mapping[str, Any],
    where: str = "acqus",
) -> dict[str, float]:
    """Δ, δ, τ (s) and γ (rad/s/T) of a Bruker gradient-echo diffusion experiment.

    Δ = D20; δ = 2·P30 for bipolar (``bp``) sequences, P30 otherwise (P in µs); τ = 0
    (TopSpin's T1/T2 module convention); each can be overridden (``big_delta``,
    ``little_delta``, ``tau``, ``gamma``).  Every value must be finite, Δ and δ > 0, and
    Δ − δ/3 − τ/2 > 0 (else b-values would be negative).

    Raises
    ------
    ReadError
        A value is missing or out of range (the message names its source).
    """
    bipolar = "bp" in pulse_program.lower()
    gamma = options.get("gamma", GAMMA_RAD_S_T.get(nucleus))
    if gamma is None:
        raise ReadError(
            f"no gyromagnetic ratio known for nucleus {nucleus!r}; pass gamma=<rad/s/T> "
            f"or add gamma = ... to [experiment] in nmrilt.toml"
        )
    opt = "the option (nmrilt.toml [experiment] or keyword)"
    params = {
        "big_delta": checked(options["big_delta"], "big_delta", opt, minimum=0, above=True)
        if "big_delta" in options else acqus_array(acqus, "D", 20, where),
        "little_delta": checked(options["little_delta"], "little_delta", opt, minimum=0,
                                above=True) if "little_delta" in options
        else (2.0 if bipolar else 1.0) * acqus_array(acqus, "P", 30, where) * 1e-6,
        "tau": checked(options.get("tau", 0.0), "tau", opt, minimum=0),
        "gamma": checked(gamma, "gamma", opt, minimum=0, above=True),
    }
    effective = params["big_delta"] - params["little_delta"] / 3.0 - params["tau"] / 2.0
    if params["big_delta"] <= 0 or params["little_delta"] <= 0 or effective <= 0:
        raise ReadError(
            f"{where}: diffusion timing Δ = {params['big_delta']:g} s (D[20]), δ = "
            f"{params['little_delta']:g} s (P[30]), τ = {params['tau']:g} s gives no positive "
            f"diffusion time Δ − δ/3 − τ/2; fix the acqus or pass big_delta=/little_delta="
        )
    return params


def b_values(g_t_per_m: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Stejskal–Tanner ``b = (γ g δ)² (Δ − δ/3 − τ/2)`` in s/m²."""
    d = params["little_delta"]
    return (params["gamma"] * np.asarray(g_t_per_m) * d) ** 2 * (
        params["big_delta"] - d / 3.0 - params["tau"] / 2.0
    )


def build_values(
    spec: AxisSpec,
    n: int,
    get_list: Callable[[str], ParsedList],
    acqus: Mapping[str, Any],
    pulse_program: str,
    nucleus: str,
    options: Mapping[str, Any],
    where: str = "acqus",
    program: PulseProgram | None = None,
    folder: Path | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Raw (untruncated) values of one axis and its provenance.

    ``get_list(name)`` returns the parsed list file; the caller checks lengths.
    ``where`` names the acqus file in messages.  ``program`` is the parsed pulse program
    of the experiment in ``folder`` (``None`` when there is none): a local program's
    vclist loop gives the echo time per count, ``;@ diffusion`` annotations give the
    diffusion timing and gradients (:mod:`nmrilt.readers.pulseprogram`); how is
    recorded in ``meta["notes"]``.
    """
    if spec.source == "index":
        return np.arange(n, dtype=float), {"source": "index"}
    if spec.source == "values":
        return np.asarray(spec.values, dtype=float), {"source": "given values"}
    if spec.source in ("b_value", "gradient") and program is not None:
        annotated = _annotated_diffusion(spec, n, get_list, acqus, options, where, program,
                                         folder)
        if annotated is not None:
            return annotated
    parsed = get_list(spec.list_name)
    meta: dict[str, Any] = {"source": parsed.source, "list_entries": list(parsed.entries)}
    if spec.source == "list":
        return np.asarray(parsed.values, dtype=float) * spec.scale, meta
    if spec.source == "echo_time":
        if program is not None and builtin_recipe(pulse_program) is None:
            per_count = _local_echo_period(program, acqus, where)
            if per_count is not None:
                seconds, note = per_count
                meta.update(seconds_per_count=seconds,
                            notes=["echo time: " + note])
                return np.asarray(parsed.values, dtype=float) * seconds, meta
        meta.update(d20_s=acqus_array(acqus, "D", 20, where),
                    p2_us=acqus_array(acqus, "P", 2, where))
        return echo_times(parsed.values, acqus, where, pulse_program), meta
    g = np.asarray(parsed.values, dtype=float) * GAUSS_PER_CM_TO_T_PER_M
    if spec.source == "gradient":
        return g, meta
    if spec.source == "b_value":
        params = diffusion_parameters(pulse_program, acqus, nucleus, options, where)
        meta.update(params, gradient_t_per_m=g.tolist())
        return b_values(g, params), meta
    raise ConfigError(f"axis {spec.name!r}: unknown source {spec.source!r}")


def _local_echo_period(program: PulseProgram, acqus: Mapping[str, Any], where: str
                       ) -> tuple[float, str] | None:
    """Seconds per vclist count of a local program's vclist loop; ``None`` when the
    program has no loop counted by the vclist (the CPMG formula is then tried)."""
    try:
        return vclist_loop_duration(program, acqus)
    except PulseProgramError as exc:
        if "no loop is counted by the vclist" in str(exc):
            return None
        raise PulseProgramError(
            f"{exc}. State the time per count in nmrilt.toml: [experiment] axes = "
            f'[{{name = "echo_time", list = "vclist", role = "echo", unit = "s", scale = '
            f"<seconds per count>}}]"
        ) from None


#: acqus nucleus parameter of each channel named in a coherence annotation.
_CHANNEL_NUCLEUS = {"f1": "NUC1", "f2": "NUC2", "f3": "NUC3", "f4": "NUC4"}


def _annotated_diffusion(
    spec: AxisSpec, n: int, get_list: Callable[[str], ParsedList], acqus: Mapping[str, Any],
    options: Mapping[str, Any], where: str, program: PulseProgram, folder: Path | None,
) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Gradients and b values from the ``;@ diffusion`` annotations (``None`` without).

    g = ramp × scale % × maximum gradient (``gradient_calib``) × shape integral factor;
    without calibration or shape file the ``difflist`` gives g.  Where both exist their
    agreement is recorded in the notes.  Options (``big_delta`` ...) override Δ, δ, τ, γ.
    """
    ann = diffusion_annotation(program, acqus)
    if ann is None:
        return None
    notes = [ann.note]
    folder = folder if folder is not None else Path(program.source).parent
    calib = gradient_calibration(folder)
    shape = shape_integral(folder, acqus, ann.shape) if ann.shape else (1.0, "no shape")
    difflist = None
    try:
        difflist = get_list(spec.list_name or "difflist")
    except ReadError:
        if calib is None or shape is None:
            raise
    meta: dict[str, Any] = {"source": f"{program.source} (;@ diffusion)"}
    if calib is not None and shape is not None:
        g = ann.gradient_fractions(n) * calib[0] * shape[0]
        notes.append(f"gradients {g[0]:.6g}..{g[-1]:.6g} T/m = ramp x {calib[1]} x {shape[1]}")
        if difflist is not None and len(difflist.values) >= n:
            listed = np.asarray(difflist.values[:n], float) * GAUSS_PER_CM_TO_T_PER_M
            worst = float(np.max(np.abs(g / listed - 1.0)))
            notes.append(f"agree with {Path(difflist.source).name} within {100 * worst:.2g} %")
    else:
        assert difflist is not None
        g = np.asarray(difflist.values, float) * GAUSS_PER_CM_TO_T_PER_M
        meta.update(source=difflist.source, list_entries=list(difflist.entries))
        missing = "gradient_calib" if calib is None else f"the {ann.shape} shape file"
        notes.append(f"gradients from {Path(difflist.source).name} ({missing} not found)")
    if spec.source == "gradient":
        return g, meta | {"notes": ["; ".join(notes)]}
    nucleus = str(acqus.get(_CHANNEL_NUCLEUS.get(ann.channel, "NUC1"), "") or "").strip("<>")
    gamma = GAMMA_RAD_S_T.get(nucleus)
    if gamma is None and "gamma" not in options:
        raise ReadError(f"{where}: the ;@ coherence channel {ann.channel} observes {nucleus!r}, "
                        f"whose gyromagnetic ratio nmrilt does not know; pass gamma=<rad/s/T>")
    defaults = {"big_delta": ann.big_delta, "little_delta": ann.little_delta, "tau": ann.tau,
                "gamma": (gamma or 0.0) * abs(ann.coherence_order)}
    overridden = sorted(k for k in defaults if k in options)
    if overridden:
        notes.append(f"overridden by the recipe options: {', '.join(overridden)}")
    params = diffusion_parameters("bp" if ann.bipolar else "", acqus, nucleus,
                                  defaults | dict(options), where)
    notes.append(f"b = (gamma g delta)^2 (Delta - delta/3 - tau/2), gamma of {nucleus} "
                 f"x coherence order {ann.coherence_order:g}")
    meta.update(params, gradient_t_per_m=g.tolist(), notes=["; ".join(notes)])
    return b_values(g, params), meta


def merge_overrides(overrides: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Raise :class:`ConfigError` for override keys no reader understands."""
    unknown = set(overrides) - set(allowed) - RECIPE_KEYS - {ORIGINS_KEY}
    if unknown:
        raise ConfigError(
            f"unknown read option(s) {sorted(unknown)}; allowed: "
            f"{sorted(set(allowed) | RECIPE_KEYS)}"
        )
