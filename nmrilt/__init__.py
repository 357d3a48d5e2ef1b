"""nmrilt: signed inverse Laplace transforms of NMR relaxation and diffusion experiments.

``path -> readers -> Experiment -> processing -> Problem -> solver -> Inversion -> results``

The public API is imported lazily so that ``import nmrilt`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
    ConfigError,
    InversionInputError,
    NmriltError,
    NmriltWarning,
    OutputError,
    ProcessingError,
    ReadError,
)

__version__ = "0.1.0"

_LAZY = {
    "read": "nmrilt.readers",
    "Experiment": "nmrilt.readers",
    "Axis": "nmrilt.readers",
    "invert": "nmrilt.solver",
    "Inversion": "nmrilt.solver",
    "run": "nmrilt.pipeline",
}

__all__ = [
    "ConfigError",
    "InversionInputError",
    "NmriltError",
    "NmriltWarning",
    "OutputError",
    "ProcessingError",
    "ReadError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nmrilt' has no attribute {name!r}")
