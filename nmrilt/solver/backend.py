"""The array-backend seam of the solver.

Every array operation of the iterative solver goes through a :class:`Backend`: an
array namespace ``xp`` (NumPy by default), a way to bring arrays to and from the host,
a sparse-matrix constructor and a moving-maximum filter.  A GPU backend (CuPy, or
PyTorch through a thin adapter) only has to provide the same few attributes; the
solver, the operators and the regularization builders stay unchanged.

Only ``"numpy"`` is built in.  Register another with :func:`register_backend`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import scipy.ndimage
import scipy.sparse

from ..errors import InversionInputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    """A small namespace of the array operations the solver needs.

    Attributes
    ----------
    name : str
        Backend name used in ``invert(..., backend=name)``.
    xp : module
        Array namespace with NumPy's API (``numpy``, ``cupy``, ...).
    sparse : module
        Sparse-matrix namespace with SciPy's API (``scipy.sparse``, ``cupyx.scipy.sparse``).
    asarray : callable
        Host array -> backend float64 array.
    to_host : callable
        Backend array -> ``numpy.ndarray``.
    maximum_filter : callable
        ``maximum_filter(x, size)``: moving maximum over a box of ``size`` points per axis
        (``scipy.ndimage.maximum_filter`` semantics, edges use the nearest value).
    """

    name: str
    xp: Any
    sparse: Any
    asarray: Callable[[Any], Any]
    to_host: Callable[[Any], np.ndarray]
    maximum_filter: Callable[[Any, int], Any]


def _np_asarray(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _np_max_filter(x: np.ndarray, size: int) -> np.ndarray:
    return scipy.ndimage.maximum_filter(x, size=size, mode="nearest")


NUMPY = Backend(
    name="numpy",
    xp=np,
    sparse=scipy.sparse,
    asarray=_np_asarray,
    to_host=np.asarray,
    maximum_filter=_np_max_filter,
)

_BACKENDS: dict[str, Backend] = {"numpy": NUMPY}


def register_backend(backend: Backend) -> None:
    """Make ``backend`` selectable by name in :func:`nmrilt.invert`."""
    _BACKENDS[backend.name] = backend


def get_backend(name: str | Backend = "numpy") -> Backend:
    """Return the backend called ``name`` (or ``name`` itself if it is a :class:`Backend`).

    Raises
    ------
    InversionInputError
        If no backend of that name is registered.
    """
    if isinstance(name, Backend):
        return name
    try:
        return _BACKENDS[name]
    except KeyError:
        raise InversionInputError(
            f"backend={name!r} is not available; choose one of {sorted(_BACKENDS)} "
            "or register one with nmrilt.solver.backend.register_backend"
        ) from None


# --- BLAS threads -----------------------------------------------------------------------------
# The solver's dense products are small (tens to hundreds of rows); on a busy machine a
# multi-threaded OpenBLAS spends more time waiting for its threads than computing (a
# 250x250 Cholesky took 0.2 s with 2 threads against another busy process, 7 ms with 1).
# invert() therefore runs with a fixed number of BLAS threads (option ``blas_threads``).

_SETTERS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


_HANDLES: list[tuple[Any, Any]] = []


def _openblas_handles() -> list[tuple[Any, Any]]:
    """(setter, getter) pairs of every OpenBLAS loaded in this process (Linux only), found
    once: reading the process map took 2 ms, a quarter of a small 1-D inversion."""
    if not _HANDLES:
        _HANDLES.extend(_find_openblas())
    return _HANDLES


def _find_openblas() -> list[tuple[Any, Any]]:
    paths = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                name = line.rsplit(" ", 1)[-1].strip()
                if "openblas" in name.lower() and name.endswith((".so", ".dylib")) or (
                    "openblas" in name.lower() and ".so." in name
                ):
                    paths.add(name)
    except OSError:
        return []
    out = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SETTERS:
            setter = getattr(lib, set_name, None)
            getter = getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes = [ctypes.c_int]
                getter.restype = ctypes.c_int
                out.append((setter, getter))
                break
    return out


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` OpenBLAS threads (``None``: leave unchanged).

    Best effort: does nothing where OpenBLAS cannot be found (other BLAS, other OS);
    the previous thread counts are restored on exit.
    """
    if n is None:
        yield
        return
    handles = _openblas_handles()
    previous = []
    for setter, getter in handles:
        previous.append(getter())
        setter(int(n))
    try:
        yield
    finally:
        for (setter, _), old in zip(handles, previous):
            setter(old)
