"""Tolerant parser for Bruker variable lists (vdlist, vclist, vplist, vtlist, difflist, fq1list).

nmrglue's ``read_vdlist`` fails on blank lines, ``ms``/``us`` suffixes and comments, and
there is no vclist/difflist reader at all, so nmrilt parses list files itself:

* one value per line, surrounding whitespace ignored, blank lines skipped;
* comments: lines starting with ``#``, ``;``, ``$$`` or ``//`` are skipped, and anything
  after ``;`` or ``#`` on a value line is ignored;
* header lines such as ``O 100.667172`` (fq1list offset), ``##%AssocValueType= 7`` or
  ``bf1 400.13`` (a word, then values) are skipped and returned in :attr:`ParsedList.header`;
* unit suffixes on numbers: ``s`` (1), ``m``/``ms`` (1e-3), ``u``/``us``/``µ``/``µs``
  (1e-6), ``n``/``ns`` (1e-9), ``p``/``ps`` (1e-12), ``k``/``ks`` (1e3);
* the order of the file is kept — lists are never sorted (descending and interleaved lists
  are legal).

Each list kind has a default unit for values without a suffix: seconds for ``vdlist``,
microseconds for ``vplist`` (TopSpin pulse lengths), plain numbers (loop counts, G/cm,
K, Hz) for the others, which also reject time suffixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nmrilt.errors import ListFormatError, MissingListError

#: Multipliers of the unit suffixes accepted on time values (to seconds).
TIME_SUFFIXES: dict[str, float] = {
    "": 1.0,
    "s": 1.0,
    "ks": 1e3,
    "k": 1e3,
    "m": 1e-3,
    "ms": 1e-3,
    "u": 1e-6,
    "us": 1e-6,
    "µ": 1e-6,
    "µs": 1e-6,
    "μ": 1e-6,
    "μs": 1e-6,
    "n": 1e-9,
    "ns": 1e-9,
    "p": 1e-12,
    "ps": 1e-12,
}

#: How each list kind is read: (unit of the returned values, scale of unsuffixed values,
#: whether time suffixes are allowed, whether values must be integers).
LIST_KINDS: dict[str, tuple[str, float, bool, bool]] = {
    "vdlist": ("s", 1.0, True, False),
    "vplist": ("s", 1e-6, True, False),
    "vclist": ("", 1.0, False, True),
    "vtlist": ("K", 1.0, False, False),
    "difflist": ("G/cm", 1.0, False, False),
    "fq1list": ("Hz", 1.0, False, False),
    "valist": ("dB", 1.0, False, False),
    "values": ("", 1.0, True, False),
}

#: Smallest value each list kind may hold (delays, pulse lengths, loop counts and
#: gradient strengths cannot be negative; temperatures are in K); absent: any finite value.
LIST_MINIMUM: dict[str, float] = {"vdlist": 0.0, "vplist": 0.0, "vclist": 0.0,
                                  "difflist": 0.0, "vtlist": 0.0}

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_VALUE_RE = re.compile(rf"^({_NUMBER})\s*([a-zA-Zµμ]*)$")
_HEADER_RE = re.compile(r"^(##|\$\$|[A-Za-z_][A-Za-z0-9_%]*\s*[=:]?\s+\S)")
_COMMENT_PREFIXES = ("#", ";", "$$", "//")


@dataclass(frozen=True)
class ParsedList:
    """Values of a list file, in file order.

    Attributes
    ----------
    values : numpy.ndarray
        Values in :attr:`unit` (seconds for delay lists).
    unit : str
        Unit of :attr:`values`.
    entries : tuple of str
        The raw text of every value line, in order.
    header : tuple of str
        Header lines that were skipped (e.g. ``O 100.667``).
    source : str
        File name (or label) the values came from.
    """

    values: np.ndarray
    unit: str
    entries: tuple[str, ...]
    header: tuple[str, ...] = ()
    source: str = "<text>"
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _strip_comment(line: str) -> str:
    stripped = line.strip()
    if not stripped or stripped.startswith(_COMMENT_PREFIXES):
        return ""
    for mark in (";", "#"):
        pos = stripped.find(mark)
        if pos >= 0:
            stripped = stripped[:pos].strip()
    return stripped


def parse_value(token: str, kind: str = "vdlist") -> float:
    """Convert one list entry such as ``"20.000m"``, ``"10ms"`` or ``"3"`` to a number.

    Parameters
    ----------
    token : str
        One entry, with or without a unit suffix.
    kind : str
        List kind (a key of :data:`LIST_KINDS`); decides the unit of unsuffixed values
        and whether suffixes are allowed.

    Returns
    -------
    float
        The value in the unit of the list kind (seconds for ``vdlist``/``vplist``).

    Raises
    ------
    ValueError
        If the entry is not a finite number with an allowed suffix, or is below the
        kind's minimum (:data:`LIST_MINIMUM`).
    """
    _unit, default_scale, suffix_ok, integer = LIST_KINDS.get(kind, LIST_KINDS["values"])
    match = _VALUE_RE.match(token.strip())
    if match is None:
        raise ValueError(f"{token!r} is not a number with an optional unit suffix")
    number, suffix = match.group(1), match.group(2)
    value = float(number)
    if suffix:
        key = suffix if suffix in TIME_SUFFIXES else suffix.lower()
        if not suffix_ok or key not in TIME_SUFFIXES:
            allowed = "n u m s (also ns us ms p k)" if suffix_ok else "none"
            raise ValueError(f"unit suffix {suffix!r} in {token!r}: allowed suffixes: {allowed}")
        value *= TIME_SUFFIXES[key]
    else:
        value *= default_scale
    if not np.isfinite(value):
        raise ValueError(f"{token!r} is not a finite number")
    if integer and value != int(value):
        raise ValueError(f"{token!r} is not a whole number (loop counters must be integers)")
    minimum = LIST_MINIMUM.get(kind)
    if minimum is not None and value < minimum:
        raise ValueError(f"a {kind} entry must be >= {minimum:g}")
    return value


def parse_list(text: str, kind: str = "vdlist", source: str = "<text>") -> ParsedList:
    """Parse the text of a list file.

    Parameters
    ----------
    text : str
        File contents.
    kind : str
        ``vdlist``, ``vclist``, ``vplist``, ``vtlist``, ``difflist``, ``fq1list``,
        ``valist`` or ``values`` (generic numbers with optional time suffixes).
    source : str
        Name used in error messages.

    Returns
    -------
    ParsedList
        Values in file order.

    Raises
    ------
    ListFormatError
        If a value line cannot be parsed (the message gives file, line number and text),
        or the list holds no value at all.
    """
    unit = LIST_KINDS.get(kind, LIST_KINDS["values"])[0]
    values: list[float] = []
    entries: list[str] = []
    header: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(("##", "$$")):
            header.append(line.strip())
            continue
        content = _strip_comment(line)
        if not content:
            continue
        if not values and _VALUE_RE.match(content) is None and _HEADER_RE.match(content):
            header.append(content)
            continue
        try:
            values.append(parse_value(content, kind))
        except ValueError as exc:
            raise ListFormatError(
                f"{source}, line {number}: cannot read {line.strip()!r} as a {kind} entry "
                f"({exc}). Write one number per line, optionally followed by a unit suffix "
                f"(e.g. 10ms, 20m, 5u, 1.5s); comment lines start with # or ;"
            ) from None
        entries.append(content)
    if not values:
        raise ListFormatError(
            f"{source} holds no values. Write one number per line (e.g. 0.01, 50ms, 2s)."
        )
    dtype = np.int64 if kind == "vclist" else np.float64
    return ParsedList(
        values=np.asarray(values, dtype=dtype),
        unit=unit,
        entries=tuple(entries),
        header=tuple(header),
        source=source,
    )


def read_list(path: str | Path, kind: str | None = None) -> ParsedList:
    """Read a list file from disk (read-only).

    Parameters
    ----------
    path : str or pathlib.Path
        The list file.
    kind : str, optional
        List kind; by default the file name (``vdlist``, ``vclist``, ...), else ``values``.

    Returns
    -------
    ParsedList

    Raises
    ------
    MissingListError
        If the file does not exist.
    ListFormatError
        If a line cannot be parsed.
    """
    path = Path(path)
    if kind is None:
        kind = path.name if path.name in LIST_KINDS else "values"
    if not path.is_file():
        raise MissingListError(
            f"{path} does not exist: copy the {kind} used for this acquisition into "
            f"{path.parent} or give the values explicitly."
        )
    text = path.read_bytes().decode("utf-8", errors="replace")
    return parse_list(text, kind=kind, source=str(path))
