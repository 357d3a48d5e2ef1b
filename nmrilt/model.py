"""The shared nouns: :class:`Dimension`, :class:`Problem` and :class:`Result`.

``Experiment -> processing -> Problem -> solver -> Inversion -> Result -> output``.  These
records travel between the layers; this module imports nothing heavy (numpy only), so any
layer may use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

__all__ = ["Dimension", "Problem", "Result", "from_inversion"]


@dataclass(frozen=True)
class Dimension:
    """Labels of one dimension of a :class:`Problem` (and of its result).

    Attributes
    ----------
    name : str
        Name of the output quantity: ``"T1"``, ``"T2"``, ``"D"``, ``"shift"`` (chemical-shift
        points), ``"region"`` (summed ppm ranges), or the axis name for other identity
        dimensions.
    unit : str
        Unit of tau: ``"s"``, ``"m^2/s"``, ``"ppm"``, ``"K"`` or ``""``.
    role : str
        Role of the experiment axis it came from (``"delay"``, ``"echo"``, ``"b_value"``,
        ``"chemical_shift"``, ``"temperature"``, ``"index"``).
    kernel : str
        Kernel name.
    t_name, t_unit : str
        Name and unit of the sampling (e.g. ``"vd"``, ``"s"``).
    ppm : numpy.ndarray or None
        Chemical-shift axis of an identity dimension built from the spectrum.
    """

    name: str
    unit: str
    role: str
    kernel: str
    t_name: str
    t_unit: str
    ppm: np.ndarray | None = None

    @property
    def inverted(self) -> bool:
        """True unless the kernel is the identity."""
        return self.kernel != "identity"


@dataclass(frozen=True)
class Problem:
    """An inversion problem ready for :func:`nmrilt.invert`.

    Attributes
    ----------
    data : numpy.ndarray
        Real data with unit noise variance (``raw / scale``).
    t, tau : tuple of numpy.ndarray
        Sampling and output grid per dimension.
    kernels : tuple of str
        Kernel name per dimension.
    dims : tuple of Dimension
        Labels per dimension.
    sigma : float
        Noise standard deviation of one spectrum point, in spectrum units.
    scale : numpy.ndarray
        What ``data`` was divided by (broadcasts to ``data``; varies only along a
        chemical-shift dimension whose entries sum different numbers of points).
    choices : dict
        Every processing decision (JSON-serialisable).
    source : pathlib.Path
        Experiment folder.
    kind : str
        Experiment kind.
    files : tuple of pathlib.Path
        Raw files read.
    meta : dict
        Experiment metadata without the vendor dictionaries.
    """

    data: np.ndarray
    t: tuple[np.ndarray, ...]
    tau: tuple[np.ndarray, ...]
    kernels: tuple[str, ...]
    dims: tuple[Dimension, ...]
    sigma: float
    scale: np.ndarray
    choices: dict[str, Any] = field(default_factory=dict)
    source: Path = Path(".")
    kind: str = "unknown"
    files: tuple[Path, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim


@dataclass(frozen=True)
class Result:
    """A finished inversion with every label needed to plot and report it.

    Attributes
    ----------
    g : numpy.ndarray
        Distribution, shape ``tuple(len(tau_i))``; in units of the unit-variance data.
    fit, residuals, data : numpy.ndarray
        Fitted data, ``data - fit`` and the processed data (unit noise variance).
    t, tau : tuple of numpy.ndarray
        Sampling and grid per dimension (identity chemical-shift dimensions: ppm).
    dims : tuple of Dimension
        Labels per dimension.
    scale : numpy.ndarray
        What the data were divided by (multiply ``g`` by it for spectrum units).
    sigma : float
        Noise sigma of one spectrum point.
    parameters : dict
        ``settings``, ``choices`` (processing) and ``solver`` (options) — JSON-serialisable.
    info : dict
        ``converged``, ``iterations``, ``message``, ``elapsed_s``.
    convergence : numpy.ndarray
        Relative change per iteration.
    source, kind, created, version : str
        Provenance.
    checksums : dict
        SHA-256 of every raw file read.
    path : pathlib.Path or None
        Folder the result was written to or read from.
    """

    g: np.ndarray
    fit: np.ndarray
    residuals: np.ndarray
    data: np.ndarray
    t: tuple[np.ndarray, ...]
    tau: tuple[np.ndarray, ...]
    dims: tuple[Dimension, ...]
    scale: np.ndarray
    sigma: float
    parameters: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    convergence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source: str = ""
    kind: str = "unknown"
    created: str = ""
    version: str = __version__
    checksums: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def with_path(self, path: Path) -> Result:
        """Copy of this result that records where it lives."""
        return replace(self, path=Path(path))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def from_inversion(
    problem: Problem,
    inversion: Any,
    settings: dict[str, Any] | None = None,
    sums: dict[str, str] | None = None,
) -> Result:
    """Combine a :class:`Problem` and the solver's result."""
    parameters = {
        "settings": _jsonable(settings or {}),
        "choices": _jsonable(problem.choices),
        "solver": _jsonable(getattr(inversion, "options", {})),
        "meta": _jsonable(problem.meta),
    }
    info = {
        "converged": bool(getattr(inversion, "converged", False)),
        "iterations": int(getattr(inversion, "iterations", 0)),
        "message": str(getattr(inversion, "message", "")),
        "elapsed_s": float(getattr(inversion, "elapsed_s", 0.0)),
    }
    conv = getattr(inversion, "convergence", None)
    return Result(
        g=np.asarray(inversion.g, float),
        fit=np.asarray(inversion.fit, float),
        residuals=np.asarray(inversion.residuals, float),
        data=np.asarray(problem.data, float),
        t=tuple(np.asarray(x, float) for x in problem.t),
        tau=tuple(np.asarray(x, float) for x in problem.tau),
        dims=problem.dims,
        scale=np.asarray(problem.scale, float),
        sigma=float(problem.sigma),
        parameters=parameters,
        info=info,
        convergence=np.asarray(conv if conv is not None else [], float),
        source=str(problem.source),
        kind=problem.kind,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        checksums=dict(sums or {}),
    )
