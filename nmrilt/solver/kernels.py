"""Per-dimension kernels k(t, tau) -> matrix of shape (len(t), len(tau)).

Built-in kernels, by name:

``exponential``          exp(-t/tau)           (T2 decay, CPMG)
``inversion_recovery``   1 - 2 exp(-t/tau)     (T1, inversion recovery)
``saturation_recovery``  1 - exp(-t/tau)       (T1, saturation recovery)
``diffusion``            exp(-b D)             (t = b in s/m^2, tau = D in m^2/s)
``identity``             not inverted          (chemical shift, temperature, index)

Any callable ``k(t, tau)`` returning a ``(len(t), len(tau))`` matrix is a custom kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InversionInputError

KernelFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def exponential(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """exp(-t/tau): transverse relaxation decay (CPMG echo train)."""
    return np.exp(-np.outer(t, 1.0 / tau))


def inversion_recovery(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """1 - 2 exp(-t/tau): longitudinal relaxation after a perfect inversion."""
    return 1.0 - 2.0 * exponential(t, tau)


def saturation_recovery(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """1 - exp(-t/tau): longitudinal relaxation after saturation."""
    return 1.0 - exponential(t, tau)


def diffusion(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """exp(-b D): Stejskal-Tanner attenuation; t = b (s/m^2), tau = D (m^2/s)."""
    return np.exp(-np.outer(t, tau))


@dataclass(frozen=True)
class KernelSpec:
    """One row of the kernel table.

    Attributes
    ----------
    function : callable or None
        ``k(t, tau)``; ``None`` for the identity (the dimension is not inverted).
    tau_domain : str
        ``"positive"`` (relaxation times), ``"nonnegative"`` (diffusion coefficients) or
        ``"any"``.
    reciprocal : bool
        True when tau is a rate conjugate to t (``D ~ 1/b``): grids span ``1/t``.
    """

    function: KernelFunction | None
    tau_domain: str = "any"
    reciprocal: bool = False


#: The one table of built-in kernels, by name.
BUILTIN_KERNELS: dict[str, KernelSpec] = {
    "exponential": KernelSpec(exponential, "positive"),
    "inversion_recovery": KernelSpec(inversion_recovery, "positive"),
    "saturation_recovery": KernelSpec(saturation_recovery, "positive"),
    "diffusion": KernelSpec(diffusion, "nonnegative", reciprocal=True),
    "identity": KernelSpec(None),
}

#: Names of the built-in kernels.
KERNEL_NAMES: tuple[str, ...] = tuple(BUILTIN_KERNELS)


@dataclass(frozen=True)
class Kernel:
    """A resolved kernel for one dimension.

    Attributes
    ----------
    name : str
        Built-in name, or the callable's ``__name__`` for a custom kernel.
    function : callable or None
        ``k(t, tau)``; ``None`` for the identity (the dimension is not inverted).
    tau_domain, reciprocal
        From the kernel table (:class:`KernelSpec`); custom kernels: ``"any"``, False.
    """

    name: str
    function: KernelFunction | None
    tau_domain: str = "any"
    reciprocal: bool = False

    @property
    def is_identity(self) -> bool:
        """True when the dimension is not inverted."""
        return self.function is None

    def matrix(self, t: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Kernel matrix of shape ``(len(t), len(tau))`` (identity: ``eye(len(t))``)."""
        if self.function is None:
            return np.eye(len(t))
        k = np.asarray(self.function(np.asarray(t, float), np.asarray(tau, float)), float)
        if k.shape != (len(t), len(tau)):
            raise InversionInputError(
                f"kernel {self.name!r} returned shape {k.shape}, expected "
                f"(len(t), len(tau)) = {(len(t), len(tau))}"
            )
        if not np.all(np.isfinite(k)):
            raise InversionInputError(f"kernel {self.name!r} produced NaN or inf values")
        return k


def resolve_kernel(spec: str | KernelFunction | Kernel, dim: int = 0) -> Kernel:
    """Turn a kernel name, callable or :class:`Kernel` into a :class:`Kernel`.

    Raises
    ------
    InversionInputError
        If ``spec`` is an unknown name or neither a string nor a callable.
    """
    if isinstance(spec, Kernel):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key not in BUILTIN_KERNELS:
            raise InversionInputError(
                f"unknown kernel {spec!r} for dimension {dim}; use one of "
                f"{sorted(KERNEL_NAMES)} or a callable k(t, tau)"
            )
        spec_row = BUILTIN_KERNELS[key]
        return Kernel(key, spec_row.function, spec_row.tau_domain, spec_row.reciprocal)
    if callable(spec):
        return Kernel(getattr(spec, "__name__", "custom"), spec)
    raise InversionInputError(
        f"kernel for dimension {dim} must be a name or a callable k(t, tau), got {spec!r}"
    )


def check_tau(kernel: Kernel, tau: np.ndarray, dim: int) -> None:
    """Raise :class:`InversionInputError` if ``tau`` is invalid for ``kernel``."""
    if kernel.tau_domain == "positive" and np.any(tau <= 0):
        raise InversionInputError(
            f"tau for dimension {dim} ({kernel.name} kernel) must be > 0; "
            f"got minimum {np.min(tau):g}. Use e.g. np.logspace for relaxation times."
        )
    if kernel.tau_domain == "nonnegative" and np.any(tau < 0):
        raise InversionInputError(
            f"tau for dimension {dim} ({kernel.name} kernel) must be >= 0; "
            f"got minimum {np.min(tau):g}"
        )
