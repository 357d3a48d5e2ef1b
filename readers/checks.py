"""Checks of the values readers take from vendor files: type, finiteness and range.

Every number a reader takes from ``acqus``/``acqu2s``/``procpar``/a list goes through
:func:`number` where it is read, so a damaged file is refused with a message naming the
file, the parameter, the value found and what would be valid — never passed on to
nmrglue, NumPy or the solver, where it would fail without saying where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nmrilt.errors import ParameterFileError, ReadError

#: Marks a parameter without a default: its absence is an error.
REQUIRED = object()


def _valid_text(integer: bool, minimum: float | None, maximum: float | None,
                above: bool) -> str:
    what = "an integer" if integer else "a finite number"
    if minimum is not None:
        what += f" {'>' if above else '>='} {minimum:g}"
    if maximum is not None:
        what += f"{',' if minimum is not None else ''} <= {maximum:g}"
    return what


def number(
    params: Mapping[str, Any],
    name: str,
    where: str | Path,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
    default: Any = REQUIRED,
    fix: str = "copy an intact parameter file from the spectrometer",
) -> Any:
    """``params[name]`` as a checked int or float.

    Parameters
    ----------
    params : mapping
        Parameters as nmrglue returns them (values may be str, int, float or None).
    name : str
        Parameter name, quoted in the message.
    where : str or path
        The file the parameter comes from, quoted in the message.
    integer : bool
        Require a whole number (returned as int).
    minimum, maximum : float, optional
        Allowed range (inclusive; ``above=True`` makes the minimum exclusive).
    default : optional
        Returned when the parameter is absent (or empty); without it absence is an error.
    fix : str
        What the user can do, appended to the message.

    Raises
    ------
    ParameterFileError
        The value is missing, not a number, not finite, not whole or out of range.
    """
    raw = params.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is not REQUIRED:
            return default
        raise ParameterFileError(f"{where}: parameter {name} is missing or empty; {fix}")
    return checked(raw, name, where, integer=integer, minimum=minimum, maximum=maximum,
                   above=above, fix=fix)


def checked(raw: Any, name: str, where: str | Path, *, integer: bool = False,
            minimum: float | None = None, maximum: float | None = None, above: bool = False,
            fix: str = "copy an intact parameter file from the spectrometer") -> Any:
    """One value checked like :func:`number` does (``raw`` may be text)."""
    valid = _valid_text(integer, minimum, maximum, above)
    try:
        value = float(raw) if not isinstance(raw, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    bad = not math.isfinite(value)
    if not bad and integer:
        bad = value != int(value)
    if not bad and minimum is not None:
        bad = value <= minimum if above else value < minimum
    if not bad and maximum is not None:
        bad = value > maximum
    if bad:
        raise ParameterFileError(
            f"{where}: {name} = {str(raw)[:40]!r} is not valid (must be {valid}); {fix}"
        )
    return int(value) if integer else value


def axis_values(values: np.ndarray, name: str, role: str, where: str | Path) -> np.ndarray:
    """Check the coordinates of an indirect axis before an experiment is built.

    Delays, echo times, b-values and gradients must be finite and >= 0 (zero is a valid
    first delay), temperatures finite and > 0, and an axis along which a decay is
    inverted must hold at least two different values.

    Raises
    ------
    ReadError
        Naming the axis, where its values came from and the first bad value.
    """
    vals = np.asarray(values, dtype=float)
    decay = role in ("delay", "echo", "b_value", "gradient")
    if vals.size == 0:
        raise ReadError(f"{where}: the {name} axis holds no values; give one per increment")
    bad = ~np.isfinite(vals)
    if decay:
        bad |= vals < 0
    elif role == "temperature":
        bad |= vals <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        limit = ">= 0" if decay else "> 0 K" if role == "temperature" else "finite"
        raise ReadError(
            f"{where}: {name} value #{i + 1} is {vals[i]!r}; every {name} value must be "
            f"finite and {limit} — fix the list or give the values with delays=[...]"
        )
    if decay and vals.size > 1 and np.ptp(vals) == 0:
        raise ReadError(
            f"{where}: all {vals.size} {name} values are {vals[0]:g}; a decay can only be "
            f"inverted along values that differ — fix the list or give the values with "
            f"delays=[...]"
        )
    return vals
