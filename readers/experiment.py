"""The universal description of an experiment that every reader returns.

A reader turns a vendor folder into an :class:`Experiment`: the raw (or processed)
data, one :class:`Axis` per data dimension with values in SI units, the metadata a
scientist needs, and the experiment kind.  Readers know nothing about kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nmrilt.errors import ReadError

#: Roles an axis can play.  ``direct`` is the acquisition (FID time) dimension,
#: ``chemical_shift`` a processed direct dimension, the others indirect dimensions.
AXIS_ROLES = (
    "direct",
    "chemical_shift",
    "delay",
    "echo",
    "gradient",
    "b_value",
    "temperature",
    "index",
)



@dataclass(frozen=True)
class KindSpec:
    """One experiment kind: what its indirect axes are and how readers build them.

    Attributes
    ----------
    name : str
        The kind (``Experiment.kind``, ``--kind``, ``kind =`` in nmrilt.toml).
    roles : tuple of str
        Roles of its indirect axes, outer loop first (:data:`AXIS_ROLES`).
    default_axes : tuple of str
        Bruker recipe axes (names of ``recipes.AXIS_SHORTCUTS``, TopSpin order F1 first)
        used when the kind is given without ``axes``; empty when there is no default.
    delays_axis : tuple of str, optional
        (name, role, unit) of the single axis built from ``delays=`` values.
    description : str
        One line for help texts.
    """

    name: str
    roles: tuple[str, ...]
    default_axes: tuple[str, ...] = ()
    delays_axis: tuple[str, str, str] | None = None
    description: str = ""


_DELAY_AXIS = ("vd", "delay", "s")

#: The one table of experiment kinds (readers, recipes, the CLI and processing use it).
KINDS: dict[str, KindSpec] = {k.name: k for k in (
    KindSpec("t1_ir", ("delay",), ("vdlist",), _DELAY_AXIS, "T1 inversion recovery"),
    KindSpec("t1_sr", ("delay",), ("vdlist",), _DELAY_AXIS, "T1 saturation recovery"),
    KindSpec("t2_cpmg", ("echo",), ("echo_time",), ("echo_time", "echo", "s"), "T2 CPMG"),
    KindSpec("diffusion", ("b_value",), ("b_value",), ("b", "b_value", "s/m^2"),
             "diffusion (PGSE/STE)"),
    KindSpec("t1_t2", ("delay", "echo"), ("vdlist", "echo_time"), None, "T1-T2 correlation"),
    KindSpec("d_t2", ("b_value", "echo"), ("b_value", "echo_time"), None, "D-T2 correlation"),
    KindSpec("t2_t2", ("echo", "echo"), (), None, "T2-T2 exchange"),
    KindSpec("unknown", (), (), None, "not known: state the kind to invert"),
)}

#: Experiment kinds the processing layer knows how to invert (plus ``"unknown"``).
EXPERIMENT_KINDS = tuple(KINDS)

#: Kinds a user can state (``--kind``, ``kind=``): every kind but ``"unknown"``.
USER_KINDS = tuple(k for k in KINDS if k != "unknown")


def kinds_with_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Kinds whose indirect axes play ``roles`` in any order (``gradient`` counts as
    ``b_value``), in table order; ``()`` when none does."""
    def norm(rs):
        return sorted("b_value" if r == "gradient" else r for r in rs)

    wanted = norm(roles)
    return tuple(k.name for k in KINDS.values() if k.roles and norm(k.roles) == wanted)


@dataclass(frozen=True)
class Axis:
    """One dimension of an experiment.

    Parameters
    ----------
    name : str
        Short label, e.g. ``"vd"``, ``"echo_time"``, ``"b"``, ``"F2"``.
    values : numpy.ndarray
        Coordinates in SI units (s, s/m², T/m, K, Hz) or ppm for a processed
        chemical-shift axis, in acquisition order (never sorted).
    unit : str
        Unit of ``values``: ``"s"``, ``"s/m^2"``, ``"T/m"``, ``"K"``, ``"Hz"``, ``"ppm"``
        or ``""`` for a plain index.
    role : str
        One of :data:`AXIS_ROLES`.
    meta : dict
        Provenance, e.g. the list file the values came from and its raw entries.
    """

    name: str
    values: np.ndarray
    unit: str
    role: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in AXIS_ROLES:
            raise ValueError(f"axis {self.name!r}: role {self.role!r} is not one of {AXIS_ROLES}")
        object.__setattr__(self, "values", np.asarray(self.values))

    def __len__(self) -> int:
        return int(self.values.shape[0])


@dataclass(frozen=True)
class Experiment:
    """Data and description of one experiment, as read from disk.

    Parameters
    ----------
    data : numpy.ndarray
        Complex FIDs (digital filter removed, block padding trimmed) or real processed
        spectra.  ``data.shape[i] == len(axes[i])``; indirect dimensions come first in
        acquisition order (slowest first), the direct dimension last.
    axes : tuple of Axis
        One axis per data dimension.
    meta : dict
        ``pulse_program``, ``nucleus``, ``sfo1_mhz``, ``bf1_mhz``, ``sw_hz``,
        ``carrier_ppm`` (ppm at the centre of the spectral window), ``ns``, ``te_k``,
        ``date``, ``title``, ``vendor``, ``processed`` (bool), ``notes`` (what the reader
        inferred, see :attr:`notes`) and ``raw`` (the vendor parameter dictionaries as
        nmrglue returns them).
    source : pathlib.Path
        The experiment folder or data file.
    kind : str
        One of :data:`EXPERIMENT_KINDS`.
    files : tuple of pathlib.Path
        Every raw file that was read (used for checksums in results).
    """

    data: np.ndarray
    axes: tuple[Axis, ...]
    meta: dict[str, Any]
    source: Path
    kind: str = "unknown"
    files: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in EXPERIMENT_KINDS:
            raise ReadError(f"{self.source}: experiment kind {self.kind!r} is not one of "
                            f"{EXPERIMENT_KINDS}")
        shape = tuple(len(ax) for ax in self.axes)
        if tuple(self.data.shape) != shape:
            raise ReadError(f"{self.source}: data shape {self.data.shape} does not match the "
                            f"axis lengths {shape}; check the TD values and lists")

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader inferred and how (``meta["notes"]``), e.g. the echo time per
        vclist count derived from the pulse program; shown in report.txt."""
        return tuple(str(n) for n in self.meta.get("notes", ()))

    @property
    def ndim(self) -> int:
        """Number of data dimensions."""
        return len(self.axes)

    def axis(self, role: str) -> Axis:
        """Return the first axis with the given role.

        Raises
        ------
        KeyError
            If no axis plays that role.
        """
        for ax in self.axes:
            if ax.role == role:
                return ax
        raise KeyError(f"experiment {self.source} has no {role!r} axis")
