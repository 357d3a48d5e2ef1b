"""The shared nouns: :class:`Dimension`, :class:`Problem` and :class:`Result`.

``Experiment -> processing -> Problem -> solver -> Inversion -> Result -> output``.  These
records travel between the layers; this module imports nothing heavy (numpy only), so any
layer may use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__

if TYPE_CHECKING:
    from .solver.inversion import Inversion

__all__ = ["Dimension", "Problem", "Result", "Uncertainty", "from_inversion", "jsonable"]


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
    spectrum : tuple of numpy.ndarray or None
        ``(ppm, real phased spectrum)`` of the strongest increment as processing saw it
        (the diagnostics figure draws it); None without a spectral axis.
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
    spectrum: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim


@dataclass(frozen=True)
class Uncertainty:
    """What noise resampling (:mod:`nmrilt.uncertainty`) says about a result.

    Attributes
    ----------
    g_std : numpy.ndarray
        Standard deviation of ``g * scale`` over the resamples about the fit, ``g``'s shape
        (spectrum units, like ``integral_au``).
    labels : numpy.ndarray
        Integer array of ``g``'s shape: ``k`` on the support of the ``k``-th listed
        component of ``peaks.csv`` (1-based), 0 elsewhere.
    columns : tuple of mapping
        Per listed component, its interval columns for ``peaks.csv`` (names carry the
        level and the unit, e.g. ``T1_logmean_ci95_low_s``, ``integral_ci95_high_au``).
    n_resamples : int
    level : float
    seed : int
    elapsed_s : float
    method : str
        One line saying how the intervals were made (for report.txt).
    """

    g_std: np.ndarray
    labels: np.ndarray
    columns: tuple[Mapping[str, float], ...]
    n_resamples: int
    level: float
    seed: int
    elapsed_s: float
    method: str


@dataclass(frozen=True)
class Result:
    """A finished inversion with every label needed to plot and report it.

    Composes the solver's :class:`~nmrilt.solver.Inversion` (the distribution, fit,
    residuals, grids and the solver's own record) with the labels and provenance of the
    problem.  The solver's fields read through as properties (``result.g``,
    ``result.converged``, ``result.stats`` ...), so there is one copy of each.  Immutable:
    the mappings are read-only views (:class:`types.MappingProxyType`, nested ones too)
    and ``warnings`` is a tuple; build a new result with :func:`dataclasses.replace`.

    Attributes
    ----------
    inversion : Inversion
        What :func:`nmrilt.invert` returned for the problem's data (unit noise variance).
    dims : tuple of Dimension
        Labels per dimension (their kernels are ``inversion.kernels``).
    scale : numpy.ndarray
        What the data were divided by (multiply ``g`` by it for spectrum units).
    sigma : float
        Noise sigma of one spectrum point.
    parameters : mapping
        ``settings`` (resolved), ``choices`` (processing) and ``meta`` (experiment) —
        JSON-serialisable.
    warnings : tuple of str
        Warnings raised while reading, processing and inverting.
    source, kind, created, version : str
        Provenance.
    checksums : mapping
        SHA-256 of every raw file read.
    path : pathlib.Path or None
        Folder the result was written to or read from.
    topspin : pathlib.Path or None
        TopSpin processed-data folder (procno) written beside the raw data, if any.
        Like ``path``, a location rather than content: neither is stored in ``result.h5``.
    uncertainty : Uncertainty or None
        Noise-resampling intervals and standard-deviation map, when they were computed.
    """

    inversion: Inversion
    dims: tuple[Dimension, ...]
    scale: np.ndarray
    sigma: float
    parameters: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    source: str = ""
    kind: str = "unknown"
    created: str = ""
    version: str = __version__
    checksums: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    topspin: Path | None = None
    uncertainty: Uncertainty | None = None

    def __post_init__(self) -> None:
        kernels = tuple(d.kernel for d in self.dims)
        if kernels != tuple(self.inversion.kernels):
            raise ValueError(
                f"Result: dims name kernels {kernels} but the inversion used "
                f"{tuple(self.inversion.kernels)}; build dims from the same problem"
            )
        object.__setattr__(self, "parameters", _frozen(self.parameters))
        object.__setattr__(self, "checksums", _frozen(self.checksums))
        object.__setattr__(self, "warnings", tuple(str(w) for w in self.warnings))

    # --- the solver's record, read through --------------------------------------------------

    @property
    def g(self) -> np.ndarray:
        """Distribution, shape ``tuple(len(tau_i))``; in units of the unit-variance data."""
        return self.inversion.g

    @property
    def fit(self) -> np.ndarray:
        """Fitted data (unit noise variance)."""
        return self.inversion.fit

    @property
    def residuals(self) -> np.ndarray:
        """``data - fit``."""
        return self.inversion.residuals

    @property
    def data(self) -> np.ndarray:
        """The processed data inverted (unit noise variance)."""
        return self.inversion.data

    @property
    def t(self) -> tuple[np.ndarray, ...]:
        """Sampling per dimension."""
        return self.inversion.t

    @property
    def tau(self) -> tuple[np.ndarray, ...]:
        """Grid per dimension (identity chemical-shift dimensions: ppm)."""
        return self.inversion.tau

    @property
    def convergence(self) -> np.ndarray:
        """Relative change of ``g`` per iteration."""
        return self.inversion.convergence

    @property
    def converged(self) -> bool:
        """True when the solver's relative change fell below its tolerance."""
        return self.inversion.converged

    @property
    def iterations(self) -> int:
        """Outer iterations run."""
        return self.inversion.iterations

    @property
    def message(self) -> str:
        """Why the iteration stopped."""
        return self.inversion.message

    @property
    def baseline(self) -> np.ndarray | None:
        """Fitted offset per identity slice (``baseline=True``), else None."""
        return self.inversion.baseline

    @property
    def stats(self) -> Mapping[str, Any]:
        """Solver diagnostics, including the effective weight ``alpha_00_used`` (read-only)."""
        return MappingProxyType(self.inversion.stats)

    @property
    def options(self) -> Mapping[str, Any]:
        """Every resolved solver option (read-only)."""
        return MappingProxyType(self.inversion.options)

    @property
    def elapsed_s(self) -> float:
        """Wall time of the inversion."""
        return self.inversion.elapsed_s

    def with_path(self, path: Path) -> Result:
        """Copy of this result that records where it lives."""
        return replace(self, path=Path(path))


def _frozen(value: Any) -> Any:
    """Read-only view of a mapping, nested mappings included (lists are kept)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dicts, lists, str, numbers, bool, None)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
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
    inversion: Inversion,
    settings: Mapping[str, Any] | None = None,
    sums: Mapping[str, str] | None = None,
    warnings: tuple[str, ...] | list[str] = (),
) -> Result:
    """Combine a :class:`Problem` and the solver's :class:`~nmrilt.solver.Inversion`.

    Parameters
    ----------
    problem : Problem
        What was inverted.
    inversion : Inversion
        The solver's result for ``problem.data``.
    settings : mapping, optional
        The resolved settings (recorded in ``parameters["settings"]``).
    sums : mapping, optional
        ``{file: SHA-256}`` of the raw files read.
    warnings : sequence of str
        Warnings raised on the way.
    """
    parameters = {
        "settings": jsonable(settings or {}),
        "choices": jsonable(problem.choices),
        "meta": jsonable(problem.meta),
    }
    return Result(
        inversion=inversion,
        dims=problem.dims,
        scale=np.asarray(problem.scale, float),
        sigma=float(problem.sigma),
        parameters=parameters,
        warnings=tuple(warnings),
        source=str(problem.source),
        kind=problem.kind,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        checksums=dict(sums or {}),
    )
