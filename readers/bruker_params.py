"""TopSpin EXPNO folders: parameter files, folder layout and the FID padding rule.

Shared by the raw reader (:mod:`nmrilt.readers.bruker`) and the processed-spectra reader
(:mod:`nmrilt.readers.bruker_pdata`), and by the questions the registry asks before
reading (:func:`is_experiment`, :func:`expected_data_size`, :func:`data_files`).

Two ways of reading a JCAMP-DX parameter file:

* :func:`read_parameters` parses ``acqus``/``acqu2s``/``acqu3s`` completely with nmrglue
  (used when reading data), after checking that each file ends with its ``##END=``
  record.
* :func:`scan_jcamp` is a bounded, single-pass scan of ``##$NAME=`` records (used by the
  questions asked of folders that may still be written to).  nmrglue's parser loops
  forever on a file cut inside an array, which a watcher can meet while TopSpin writes;
  the scan reads at most :data:`SCAN_MAX_BYTES` and never loops on its input.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nmrglue as ng

from nmrilt.errors import ParameterFileError, UnsupportedDataTypeError

from .checks import number
from .jcamp import check_complete

#: Bytes of one stored FID block: every FID starts on such a boundary.
BLOCK_BYTES = 1024
#: DTYPA code -> numpy type letter and item size (bytes).
DTYPA_TYPES = {0: ("i4", 4), 2: ("f8", 8)}
#: acqus AQSEQ code -> TopSpin loop order.
AQSEQ_ORDER = {0: "321", 1: "312"}
#: Parameter files of the direct and indirect dimensions, F3/F2/F1 status files.
STATUS_FILES = ("acqus", "acqu2s", "acqu3s")
#: Most bytes :func:`scan_jcamp` reads from one parameter file (real acqus: ~20 kB).
SCAN_MAX_BYTES = 4 * 1024 * 1024
#: Fewest complex points per FID the processing can work with (TD counts real values).
MIN_DIRECT_POINTS = 16
#: Highest spectrometer frequency accepted (MHz): far above any magnet built.
MAX_FREQUENCY_MHZ = 1e4

_RECORD = re.compile(r"^##\$?([^=]+)=\s*(.*)$")


def locate(path: Path) -> tuple[Path, int | None]:
    """(EXPNO folder, PROCNO or None) of an EXPNO folder, a file in it or ``pdata/N``."""
    if path.is_file():
        path = path.parent
    if path.parent.name == "pdata" and not (path / "acqus").is_file():
        try:
            return path.parents[1], int(path.name)
        except ValueError:
            return path.parents[1], None
    return path, None


def parameter_file(expdir: Path, status: str) -> Path | None:
    """``expdir/acqus`` (status) or, when absent, ``expdir/acqu`` (its start copy)."""
    for name in (status, status[:-1]):
        if (expdir / name).is_file():
            return expdir / name
    return None


def read_jcamp(path: Path) -> dict[str, Any]:
    """Parse one parameter file with nmrglue, once it is known to be complete.

    A file nmrglue's parser would not return from (cut before ``##END=``, an array with
    fewer values than it declares, an unterminated ``<...>`` string) is refused before
    nmrglue sees it (:func:`nmrilt.readers.jcamp.check_complete`).

    Raises
    ------
    ParameterFileError
        If the file is cut short or nmrglue cannot parse it.
    """
    check_complete(path)
    try:
        dic = ng.bruker.read_jcamp(str(path))
    except Exception as exc:  # nmrglue raises anything from UnicodeError to IndexError
        raise ParameterFileError(
            f"{path} cannot be parsed as a TopSpin JCAMP-DX parameter file ({exc!r}); "
            f"copy an intact {path.name} from the spectrometer"
        ) from None
    return dic


def read_parameters(expdir: Path) -> tuple[dict[str, dict[str, Any]], list[Path]]:
    """Read ``acqus`` (or ``acqu``) and the ``acqu2s``/``acqu3s`` present.

    Raises
    ------
    ParameterFileError
        If ``acqus`` is missing, unreadable, or lacks TD/SW_h/SFO1.
    """
    dic: dict[str, dict[str, Any]] = {}
    files: list[Path] = []
    for status in STATUS_FILES:
        path = parameter_file(expdir, status)
        if path is not None:
            dic[status] = read_jcamp(path)
            files.append(path)
    if "acqus" not in dic:
        raise ParameterFileError(
            f"{expdir} has no acqus file; point nmrilt at a TopSpin EXPNO folder that "
            f"contains acqus and fid/ser"
        )
    missing = [k for k in ("TD", "SW_h", "SFO1") if k not in dic["acqus"]]
    if missing:
        raise ParameterFileError(
            f"{files[0]} lacks {', '.join(missing)} — it is not a complete TopSpin acqus "
            f"file; copy an intact acqus from the spectrometer"
        )
    check_acqus(dic["acqus"], files[0])
    for name, path in zip(STATUS_FILES[1:], files[1:]):
        if name in dic:
            dic[name]["TD"] = number(dic[name], "TD", path, integer=True, minimum=1,
                                     fix="it is the number of increments of this dimension; "
                                         "copy an intact file from the spectrometer")
    return dic, files


def check_acqus(acqus: dict[str, Any], path: Path) -> None:
    """Check (and store as numbers) every ``acqus`` value the reader uses.

    Raises
    ------
    ParameterFileError
        Naming the parameter, its value and the valid range.
    """
    def put(name: str, **rules: Any) -> None:
        acqus[name] = number(acqus, name, path, **rules)

    put("AQ_mod", integer=True, minimum=0, maximum=3, default=3)
    put("DTYPA", integer=True, minimum=0, default=0)
    if acqus["DTYPA"] not in DTYPA_TYPES:
        raise UnsupportedDataTypeError(
            f"{path}: DTYPA = {acqus['DTYPA']} is not a data type nmrilt can decode (0 = "
            f"int32, 2 = float64); convert the data in TopSpin (e.g. 'convdta') or fix DTYPA"
        )
    put("BYTORDA", integer=True, minimum=0, maximum=1, default=0)
    put("TD", integer=True, minimum=2 * MIN_DIRECT_POINTS,
        fix="TD counts the points of one FID; copy an intact acqus from the spectrometer")
    if acqus["AQ_mod"] in (1, 3) and acqus["TD"] % 2:
        raise ParameterFileError(
            f"{path}: TD = {acqus['TD']} is odd, but AQ_mod = {acqus['AQ_mod']} stores complex "
            f"points (real, imaginary pairs); copy an intact acqus from the spectrometer"
        )
    put("SW_h", above=True, minimum=0, fix="SW_h is the spectral width in Hz")
    put("SFO1", above=True, minimum=0, maximum=MAX_FREQUENCY_MHZ,
        fix="SFO1 is the observe frequency in MHz")
    put("BF1", above=True, minimum=0, maximum=MAX_FREQUENCY_MHZ, default=acqus["SFO1"],
        fix="BF1 is the basic spectrometer frequency in MHz")
    put("NBL", integer=True, minimum=1, default=1)
    put("DIGMOD", integer=True, minimum=0, default=1)
    put("AQSEQ", integer=True, minimum=0, default=0)
    put("GRPDLY", minimum=-1, maximum=acqus["TD"] / 2, default=-1,
        fix="GRPDLY is the digital filter delay in points (-1: from DECIM/DSPFVS)")
    put("DECIM", minimum=1, default=1)
    put("DSPFVS", integer=True, minimum=0, default=0)
    put("NS", integer=True, minimum=0, default=0)
    put("TE", minimum=0, default=float("nan"), fix="TE is the sample temperature in K")


def scan_jcamp(path: Path) -> dict[str, str | list[str]]:
    """Values of the ``##$NAME=`` records of a parameter file, in one bounded pass.

    A scalar record gives its text (``"1024"``, ``"<zg>"``); an array record
    (``##$TD_INDIRECT= (0..7)`` followed by value lines) gives the whitespace-separated
    tokens of its value lines.  A file cut anywhere gives the records it holds; nothing
    here can loop on damaged input.  Returns ``{}`` when the file cannot be read.
    """
    try:
        with path.open("rb") as fh:
            text = fh.read(SCAN_MAX_BYTES).decode("latin-1")
    except OSError:
        return {}
    out: dict[str, str | list[str]] = {}
    array: list[str] | None = None
    for line in text.splitlines():
        match = _RECORD.match(line)
        if match:
            name, value = match.group(1).strip(), match.group(2).split("$$", 1)[0].strip()
            array = [] if value.startswith("(") and value.endswith(")") else None
            out[name] = array if array is not None else value
        elif array is not None and not line.startswith("$$"):
            array.extend(line.split())
    return out


def scan_parameters(expdir: Path) -> dict[str, dict[str, str | list[str]]]:
    """:func:`scan_jcamp` of ``acqus``/``acqu2s``/``acqu3s`` (or ``acqu``...), as present."""
    dic = {}
    for status in STATUS_FILES:
        path = parameter_file(expdir, status)
        if path is not None:
            dic[status] = scan_jcamp(path)
    return dic


def indirect_tds(dic: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(parameter file, TD) of the indirect dimensions in TopSpin order (F1 first).

    ``dic`` maps status-file names to parameters, as :func:`read_parameters` or
    :func:`scan_parameters` return them.
    """
    dims = [(name, int(dic[name].get("TD", 0) or 0)) for name in ("acqu3s", "acqu2s")
            if name in dic]
    if not dims:
        tdi = [(i, int(t)) for i, t in enumerate(dic["acqus"].get("TD_INDIRECT", []) or [])]
        dims = [(f"acqus TD_INDIRECT[{i}]", t) for i, t in tdi if t > 1][::-1]
    return [(n, t) for n, t in dims if t > 1 or n.startswith("acqu2")]


def padded_fid_bytes(acqus: Mapping[str, Any]) -> int:
    """Bytes one stored FID occupies: TD padded to whole :data:`BLOCK_BYTES` blocks."""
    _letter, size = DTYPA_TYPES.get(int(acqus.get("DTYPA", 0)), ("i4", 4))
    per_block = BLOCK_BYTES // size
    return -(-int(acqus["TD"]) // per_block) * per_block * size


def binary_file(expdir: Path, nd: bool) -> Path | None:
    """The data file of an EXPNO folder: ``ser`` first for pseudo-nD, ``fid`` first for 1-D."""
    for name in (("ser", "fid") if nd else ("fid", "ser")):
        if (expdir / name).is_file():
            return expdir / name
    return None


def is_experiment(path: str | Path) -> bool:
    """True for an EXPNO folder with parameters and a ``ser`` (a pseudo-nD experiment).

    A folder with only a ``fid`` is a 1-D spectrum: nothing to invert.  ``pdata/N``
    folders and files are not experiments here (their EXPNO is).
    """
    path = Path(path)
    return (path.is_dir() and parameter_file(path, "acqus") is not None
            and (path / "ser").is_file())


def data_files(path: str | Path) -> list[Path]:
    """The binary file the reader reads (``ser`` or ``fid``); ``[]`` while none exists."""
    expdir, _procno = locate(Path(path))
    found = binary_file(expdir, (expdir / "ser").is_file())
    return [found] if found is not None else []


def expected_data_size(path: str | Path) -> int | None:
    """Bytes the data file holds once the acquisition is complete, or None if unknown.

    The reader's rule: ``prod(TD of the indirect dimensions)`` FIDs (:func:`indirect_tds`:
    ``acqu3s``/``acqu2s``, else ``acqus`` ``TD_INDIRECT``), each :func:`padded_fid_bytes`.
    Unknown (None) when ``acqus`` lacks a usable TD or DTYPA, or when nothing but the
    file size tells the number of rows.  Parameters are read with :func:`scan_jcamp`.
    """
    expdir, _procno = locate(Path(path))
    dic = scan_parameters(expdir)
    acqus = dic.get("acqus", {})
    try:
        if int(acqus.get("TD", 0)) <= 0 or int(acqus.get("DTYPA", 0)) not in DTYPA_TYPES:
            return None
        dims = indirect_tds(dic)
    except (TypeError, ValueError):
        return None
    if not dims and binary_file(expdir, True) == expdir / "ser":
        return None  # the reader takes the rows from the ser size itself
    rows = 1
    for _name, td in dims:
        rows *= td
    return rows * padded_fid_bytes(acqus)


def _date(acqus: Mapping[str, Any]) -> str:
    try:
        stamp = float(acqus.get("DATE", 0))
        if stamp <= 0:
            return ""
        return _dt.datetime.fromtimestamp(stamp, tz=_dt.UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return ""  # DATE only labels the result


def _title(expdir: Path, procno: int | None, files: list[Path]) -> str:
    path = expdir / "pdata" / str(procno or 1) / "title"
    if not path.is_file():
        return ""
    files.append(path)
    return path.read_bytes().decode("utf-8", errors="replace").strip()


def experiment_meta(dic: Mapping[str, Any], pprog: str, expdir: Path, procno: int | None,
                    files: list[Path]) -> dict[str, Any]:
    """:attr:`Experiment.meta` of a Bruker experiment (appends the title file to ``files``)."""
    acqus = dic["acqus"]
    bf1 = float(acqus["BF1"])
    sfo1 = float(acqus["SFO1"])
    return {
        "vendor": "bruker",
        "pulse_program": pprog,
        "nucleus": str(acqus.get("NUC1", "")),
        "sfo1_mhz": sfo1,
        "bf1_mhz": bf1,
        "sw_hz": float(acqus["SW_h"]),
        "carrier_ppm": (sfo1 - bf1) / bf1 * 1e6,
        "ns": acqus["NS"],
        "te_k": float(acqus["TE"]),
        "date": _date(acqus),
        "title": _title(expdir, procno, files),
        "processed": False,
        "raw": dict(dic),
    }
