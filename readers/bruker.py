"""Bruker TopSpin experiment folders (``fid``/``ser`` + ``acqus``/``acqu2s``/``acqu3s``).

Parameter files and binary data are read through nmrglue; nmrilt adds what nmrglue
lacks: block-padding removal before the digital filter, AQSEQ-aware pseudo-3D
reshaping, partially written ``ser`` files, tolerant list parsing and the physical
axes of relaxation/diffusion experiments (see :mod:`nmrilt.readers.recipes`).

Rules (documented in ``docs/formats.md``):

* FIDs start on 1024-byte boundaries: TD is padded to a multiple of 256 (int32) or 128
  (float64) values; the padding is trimmed before the digital filter is removed.
* ``n_written = file size // padded FID size``.  For a pseudo-2D experiment the rows kept
  are ``min(TD(acqu2s), n_written)``; for pseudo-3D only complete outer loops are kept.
  Fewer rows than TD promised -> :class:`ReadWarning` (or :class:`TruncatedDataError`
  with ``allow_partial=False``); no complete row/plane -> :class:`TruncatedDataError`.
* A list longer than the TD of its dimension is truncated with a warning; a shorter list
  raises :class:`ListLengthError`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from nmrilt.errors import (
    ListLengthError,
    MissingListError,
    ParameterFileError,
    ReadError,
    ReadWarning,
    TruncatedDataError,
    UnknownPulseProgramError,
    UnsupportedDataTypeError,
)

from . import recipes
from .experiment import Axis, Experiment
from .text import SUFFIXES as TEXT_SUFFIXES
from .lists import ParsedList, parse_list, read_list

log = logging.getLogger(__name__)

#: Bytes of one stored FID block.
BLOCK_BYTES = 1024
#: DTYPA code -> numpy type letter and item size.
DTYPA_TYPES = {0: ("i4", 4), 2: ("f8", 8)}
#: acqus AQSEQ code -> TopSpin loop order.
AQSEQ_ORDER = {0: "321", 1: "312"}
#: Placeholder list names written by old TopSpin versions ("no list").
_PLACEHOLDER = re.compile(r"^(D+|C+|P+|A+|F+|T+|)$")

#: Read options understood by this reader (besides the recipe keys).
OPTIONS = ("pdata", "allow_partial", "group_delay")


def guess_can_open(path: str | Path) -> bool:
    """True for a TopSpin EXPNO folder, its ``pdata/N`` folder or a file inside it."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() in TEXT_SUFFIXES:
            return False
        path = path.parent
    if (path / "acqus").is_file() or (path / "acqu").is_file():
        return True
    return path.parent.name == "pdata" and (path.parents[1] / "acqus").is_file()


def _locate(path: Path) -> tuple[Path, int | None]:
    if path.is_file():
        path = path.parent
    if path.parent.name == "pdata" and not (path / "acqus").is_file():
        try:
            return path.parents[1], int(path.name)
        except ValueError:
            return path.parents[1], None
    return path, None


def _read_jcamp(path: Path) -> dict[str, Any]:
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
    for status in ("acqus", "acqu2s", "acqu3s"):
        for name in (status, status[:-1]):
            if (expdir / name).is_file():
                dic[status] = _read_jcamp(expdir / name)
                files.append(expdir / name)
                break
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
    return dic, files


def _indirect_tds(dic: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(parameter file, TD) of the indirect dimensions in TopSpin order (F1 first)."""
    dims = [(name, int(dic[name].get("TD", 0))) for name in ("acqu3s", "acqu2s") if name in dic]
    if not dims:
        tdi = [(i, int(t)) for i, t in enumerate(dic["acqus"].get("TD_INDIRECT", []) or [])]
        dims = [(f"acqus TD_INDIRECT[{i}]", t) for i, t in tdi if t > 1][::-1]
    return [(n, t) for n, t in dims if t > 1 or n.startswith("acqu2")]


def _padded_fid_bytes(acqus: Mapping[str, Any]) -> int:
    """Bytes one stored FID occupies (TD padded to a 1024-byte block)."""
    letter, size = DTYPA_TYPES.get(int(acqus.get("DTYPA", 0)), ("i4", 4))
    per_block = BLOCK_BYTES // size
    return -(-int(acqus["TD"]) // per_block) * per_block * size


def _read_fids(
    binfile: Path, acqus: Mapping[str, Any], acqus_path: Path
) -> tuple[np.ndarray, int, int]:
    """Return (complete FIDs trimmed to TD, number written, padded TD in values)."""
    dtypa = int(acqus.get("DTYPA", 0))
    if dtypa not in DTYPA_TYPES:
        raise UnsupportedDataTypeError(
            f"{acqus_path}: DTYPA = {dtypa} is not a data type nmrilt can decode (0 = int32, "
            f"2 = float64); convert the data in TopSpin (e.g. 'convdta') or fix DTYPA"
        )
    bytorda = int(acqus.get("BYTORDA", 0))
    if bytorda not in (0, 1):
        raise ParameterFileError(f"{acqus_path}: BYTORDA = {bytorda} must be 0 or 1")
    letter, size = DTYPA_TYPES[dtypa]
    td = int(acqus["TD"])
    if td <= 0:
        raise ParameterFileError(f"{acqus_path}: TD = {td}; fix TD in the acqus file")
    per_block = BLOCK_BYTES // size
    padded = -(-td // per_block) * per_block
    nbytes = binfile.stat().st_size
    n_written = nbytes // (padded * size)
    if n_written == 0:
        raise TruncatedDataError(
            f"{binfile} holds {nbytes} bytes, less than one complete FID "
            f"({padded * size} bytes for TD = {td}); the acquisition wrote no complete "
            f"increment — re-acquire or copy the complete file"
        )
    if int(acqus.get("NBL", 1)) > 1:
        warnings.warn(
            f"{acqus_path}: NBL = {acqus['NBL']} (several FIDs per memory block) is untested; "
            f"FIDs are read as consecutive 1024-byte-aligned blocks", ReadWarning, stacklevel=3,
        )
    big = bytorda == 1
    cplex = int(acqus.get("AQ_mod", 3)) in (1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if nbytes == n_written * padded * size:
            _d, raw = ng.bruker.read_binary(
                str(binfile), shape=(n_written, padded), cplex=False, big=big,
                isfloat=dtypa == 2,
            )
        else:  # partial last FID: nmrglue cannot reshape, read the complete ones only
            dtype = np.dtype((">" if big else "<") + letter)
            raw = np.fromfile(binfile, dtype=dtype, count=n_written * padded)
            raw = raw.reshape(n_written, padded)
    raw = np.asarray(raw, dtype=float)[:, :td]
    fids = ng.bruker.complexify_data(raw) if cplex else raw.astype(complex)
    return fids, n_written, padded


def _remove_filter(
    fids: np.ndarray, acqus: Mapping[str, Any], acqus_path: Path, group_delay: float | None
) -> tuple[np.ndarray, float]:
    if int(acqus.get("DIGMOD", 1)) == 0 and group_delay is None:
        return fids, 0.0
    decim = acqus.get("DECIM", 1)
    dspfvs = acqus.get("DSPFVS", 0)
    grpdly = float(group_delay if group_delay is not None else acqus.get("GRPDLY", -1))
    try:
        phase = grpdly if grpdly > 0 else (
            0.0 if dspfvs >= 14 else ng.bruker.bruker_dsp_table[dspfvs][decim]
        )
        out = ng.bruker.rm_dig_filter(fids, decim, dspfvs, grpdly, truncate_grpdly=False)
    except (KeyError, ValueError):
        raise ParameterFileError(
            f"{acqus_path}: no group delay for DECIM = {decim}, DSPFVS = {dspfvs}, "
            f"GRPDLY = {grpdly}; pass group_delay=<points> to nmrilt.read"
        ) from None
    return out, float(phase)


def _list_getter(expdir: Path, acqus: Mapping[str, Any], files: list[Path]):
    cache: dict[str, ParsedList] = {}
    param = {"vdlist": "VDLIST", "vclist": "VCLIST", "vplist": "VPLIST", "valist": "VALIST",
             "vtlist": "VTLIST", "fq1list": "FQ1LIST"}
    pprog = expdir / "pulseprogram"

    def get(name: str) -> ParsedList:
        if name in cache:
            return cache[name]
        path = expdir / name
        if path.is_file():
            parsed = read_list(path, kind=name if name in param or name == "difflist" else None)
            files.append(path)
        else:
            parsed = _inline_list(pprog, name)
            if parsed is None:
                source = str(acqus.get(param.get(name, ""), "") or "")
                hint = ""
                if source and not _PLACEHOLDER.match(source):
                    hint = f" (acqus {param[name]} = <{source}>: TopSpin's lists/ folder holds it)"
                raise MissingListError(
                    f"{path} not found: this experiment needs its {name}{hint}. Copy the "
                    f"list used for the acquisition into {expdir} as '{name}', or give the "
                    f"values with delays=[...] or an axes table in nmrilt.toml"
                )
            files.append(pprog)
        cache[name] = parsed
        return parsed

    return get


_INLINE_TYPES = {"vdlist": "delay", "vclist": "loopcounter", "vplist": "pulse"}


def _inline_list(pprog: Path, name: str) -> ParsedList | None:
    """A literal ``define list<type> x = {…}`` in the pulse program (exactly one of the type)."""
    kind = _INLINE_TYPES.get(name)
    if kind is None or not pprog.is_file():
        return None
    text = pprog.read_bytes().decode("utf-8", errors="replace")
    found = re.findall(rf"define\s+list\s*<\s*{kind}\s*>\s*\w+\s*=\s*\{{([^}}]*)\}}", text)
    if len(found) != 1:
        return None
    return parse_list("\n".join(found[0].split()), kind=name, source=f"{pprog} (inline list)")


def _date(acqus: Mapping[str, Any]) -> str:
    try:
        stamp = float(acqus.get("DATE", 0))
    except (TypeError, ValueError):
        return ""
    if stamp <= 0:
        return ""
    return _dt.datetime.fromtimestamp(stamp, tz=_dt.timezone.utc).isoformat()


def _title(expdir: Path, procno: int | None, files: list[Path]) -> str:
    path = expdir / "pdata" / str(procno or 1) / "title"
    if not path.is_file():
        return ""
    files.append(path)
    return path.read_bytes().decode("utf-8", errors="replace").strip()


def _meta(dic: Mapping[str, Any], pprog: str, expdir: Path, procno: int | None,
          files: list[Path]) -> dict[str, Any]:
    acqus = dic["acqus"]
    bf1 = float(acqus.get("BF1", acqus["SFO1"]))
    sfo1 = float(acqus["SFO1"])
    return {
        "vendor": "bruker",
        "pulse_program": pprog,
        "nucleus": str(acqus.get("NUC1", "")),
        "sfo1_mhz": sfo1,
        "bf1_mhz": bf1,
        "sw_hz": float(acqus["SW_h"]),
        "carrier_ppm": (sfo1 - bf1) / bf1 * 1e6,
        "ns": int(acqus.get("NS", 0)),
        "te_k": float(acqus.get("TE", float("nan"))),
        "date": _date(acqus),
        "title": _title(expdir, procno, files),
        "processed": False,
        "raw": dict(dic),
    }


def _check_length(values: np.ndarray, td: int, spec_name: str, source: str,
                  td_source: str) -> np.ndarray:
    if len(values) < td:
        raise ListLengthError(
            f"{source} has {len(values)} entries but {td_source} TD is {td} — fix the list "
            f"(one entry per increment) or pass the {spec_name} values with delays=[...]"
        )
    if len(values) > td:
        warnings.warn(
            f"{source} has {len(values)} entries but {td_source} TD is {td}; using the first "
            f"{td}", ReadWarning, stacklevel=4,
        )
        values = values[:td]
    return values


def read(path: str | Path, **overrides: Any) -> Experiment:
    """Read a Bruker TopSpin experiment folder.

    Parameters
    ----------
    path : str or pathlib.Path
        EXPNO folder (or a file in it, or ``pdata/N`` to read processed spectra).
    **overrides
        ``kind``, ``axes``, ``delays``, ``pulse_program``, ``big_delta``,
        ``little_delta``, ``tau``, ``gamma`` (see :mod:`nmrilt.readers.recipes`);
        ``pdata=N`` reads TopSpin's processed spectra from ``pdata/N``;
        ``allow_partial=False`` turns a short ``ser`` into an error;
        ``group_delay=`` forces the digital-filter delay (points).

    Returns
    -------
    Experiment

    Raises
    ------
    ReadError
        A subclass naming the file at fault and the fix.
    """
    recipes.merge_overrides(overrides, OPTIONS)
    expdir, procno = _locate(Path(path))
    if overrides.get("pdata") is not None:
        procno = int(overrides["pdata"])
    dic, files = read_parameters(expdir)
    acqus, acqus_path = dic["acqus"], files[0]
    pprog = str(acqus.get("PULPROG", "")).strip()
    indirect = _indirect_dims(expdir, dic)
    recipe, toml_table = _recipe(expdir, pprog, acqus_path, indirect, overrides, files)
    if (expdir / "pulseprogram").is_file():
        files.append(expdir / "pulseprogram")
    order = _loop_order(acqus, acqus_path, len(indirect))

    # indirect axes in TopSpin order (F1 first), lengths checked against their TD
    get_list = _list_getter(expdir, acqus, files)
    recipe_pprog = str(overrides.get("pulse_program") or toml_table.get("pulse_program") or pprog)
    nucleus = str(acqus.get("NUC1", "1H"))
    ax_values: list[np.ndarray] = []
    ax_meta: list[dict[str, Any]] = []
    for (td_src, td), spec in zip(indirect, recipe.axes if recipe else ()):
        vals, meta = recipes.build_values(
            spec, td, get_list, acqus, recipe_pprog, nucleus, recipe.options
        )
        ax_values.append(_check_length(vals, td, spec.name, meta.get("source", spec.name),
                                       td_src))
        ax_meta.append(meta)

    if procno is not None:
        from .bruker_pdata import read_pdata  # processed spectra live in their own module

        return read_pdata(expdir, procno, dic, files, pprog, recipe, indirect,
                          _indirect_axes(recipe, order, ax_values, ax_meta, None))

    binfile = _binary_file(expdir, bool(indirect))
    fids, n_written, _padded = _read_fids(binfile, acqus, acqus_path)
    files.append(binfile)
    fids, group_delay = _remove_filter(fids, acqus, acqus_path, overrides.get("group_delay"))
    ordered = [indirect[i][1] for i in order]
    kept = _rows_kept(binfile, n_written, ordered, overrides.get("allow_partial", True))
    data = fids[: int(np.prod(kept))].reshape(*kept, fids.shape[-1]) if kept else fids[0]

    meta = _meta(dic, pprog, expdir, None, files)
    meta["group_delay_points"] = group_delay
    meta["aqseq"] = AQSEQ_ORDER.get(int(acqus.get("AQSEQ", 0)), "321") if len(order) == 2 else ""
    direct = Axis(
        "time", np.arange(data.shape[-1]) / meta["sw_hz"], "s", "direct",
        {k: meta[k] for k in ("sw_hz", "sfo1_mhz", "bf1_mhz", "carrier_ppm")}
        | {"group_delay_points": group_delay, "td": int(acqus["TD"])},
    )
    axes = _indirect_axes(recipe, order, ax_values, ax_meta, kept) + [direct]
    return Experiment(
        data=data, axes=tuple(axes), meta=meta, source=expdir,
        kind=recipe.kind if recipe else "unknown", files=tuple(dict.fromkeys(files)),
    )


def _indirect_dims(expdir: Path, dic: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, int]]:
    """Indirect dimensions (source, TD), F1 first; from the file size when nothing else says."""
    indirect = _indirect_tds(dic)
    if not indirect and (expdir / "ser").is_file() and not (expdir / "fid").is_file():
        n_fids = (expdir / "ser").stat().st_size // _padded_fid_bytes(dic["acqus"])
        if n_fids > 1:  # no acqu2s and no TD_INDIRECT: the file size tells the rows
            indirect = [("ser file size", n_fids)]
    if len(indirect) > 2:
        raise ReadError(f"{expdir}: {len(indirect) + 1}-D data are not supported "
                        f"(pseudo-2D/3D only)")
    return indirect


_LIST_KIND_HINTS = (
    (("vdlist", "vclist"), "t1_t2"),
    (("difflist", "vclist"), "d_t2"),
    (("difflist",), "diffusion"),
    (("vclist",), "t2_cpmg"),
    (("vdlist",), "t1_ir"),
)


def _suggest_kind(expdir: Path, n_indirect: int) -> str:
    """The kind quoted in the unknown-pulse-program message, guessed from the lists present."""
    for names, kind in _LIST_KIND_HINTS:
        if len(names) == n_indirect and all((expdir / n).is_file() for n in names):
            return kind
    return "t1_ir" if n_indirect == 1 else "t1_t2"


def _recipe(expdir: Path, pprog: str, acqus_path: Path, indirect: list[tuple[str, int]],
            overrides: Mapping[str, Any], files: list[Path]):
    """Resolve the recipe (None for 1D data) and return it with the nmrilt.toml table."""
    toml_table, toml_path = recipes.read_toml_recipe(expdir, overrides)
    if toml_path is not None:
        files.append(toml_path)
    if not indirect:
        return None, toml_table
    recipe = recipes.resolve_recipe(pprog, overrides, toml_table, toml_path, len(indirect))
    if recipe is None:
        kind = _suggest_kind(expdir, len(indirect))
        raise UnknownPulseProgramError(
            f"pulse program '{pprog}' ({acqus_path}) has no built-in axis recipe, so "
            f"nmrilt cannot know what the {len(indirect)} indirect dimension(s) mean. "
            f"State it: create {expdir / 'nmrilt.toml'} containing\n"
            f"{recipes.example_recipe_text(kind)}\n"
            f"(kind: t1_ir, t1_sr, t2_cpmg, diffusion, t1_t2, d_t2; axes: "
            f"vdlist, echo_time, b_value, gradient, vtlist, index), or call "
            f"nmrilt.read(path, kind=\"{kind}\")."
        )
    log.debug("%s: kind %s, recipe from %s", expdir, recipe.kind, recipe.origin)
    return recipe, toml_table


def _loop_order(acqus: Mapping[str, Any], acqus_path: Path, n_indirect: int) -> list[int]:
    """Positions (in TopSpin order F1, F2) of the indirect dimensions, outer loop first."""
    if n_indirect < 2:
        return list(range(n_indirect))
    aqseq = int(acqus.get("AQSEQ", 0))
    if aqseq not in AQSEQ_ORDER:
        raise ParameterFileError(f"{acqus_path}: AQSEQ = {aqseq} is not 0 (321) or 1 (312)")
    return [1, 0] if aqseq == 1 else [0, 1]  # 312: F2 (acqu2s) outer, F1 (acqu3s) inner


def _binary_file(expdir: Path, nd: bool) -> Path:
    for name in (("ser", "fid") if nd else ("fid", "ser")):
        if (expdir / name).is_file():
            return expdir / name
    raise TruncatedDataError(
        f"{expdir} has parameters but no fid/ser file: the acquisition wrote no data. "
        f"Re-acquire, or copy the experiment folder again with its fid/ser"
    )


def _rows_kept(binfile: Path, n_written: int, ordered: list[int], allow_partial: bool
               ) -> list[int]:
    """Shape of the indirect dimensions kept (outer first); see the module rules."""
    if not ordered:
        return []
    inner = int(np.prod(ordered[1:])) if len(ordered) > 1 else 1
    n_full = int(np.prod(ordered))
    outer_kept = min(ordered[0], n_written // inner)
    if n_written < n_full:
        msg = (f"{binfile} holds {n_written} complete FIDs but the parameters promise "
               f"{n_full} ({' x '.join(map(str, ordered))}); ")
        if outer_kept == 0:
            raise TruncatedDataError(msg + "no complete increment of the outer loop was "
                                     "written — re-acquire or copy the complete file")
        if not allow_partial:
            raise TruncatedDataError(msg + "pass allow_partial=True to keep the complete "
                                     "increments")
        warnings.warn(msg + f"keeping the first {outer_kept * inner} (complete increments "
                      f"of the outer loop)", ReadWarning, stacklevel=3)
    elif n_written > n_full:
        warnings.warn(f"{binfile} holds {n_written} FIDs, more than the {n_full} the "
                      f"parameters promise; using the first {n_full}", ReadWarning,
                      stacklevel=3)
    return [outer_kept] + ordered[1:]


def _indirect_axes(recipe, order, ax_values, ax_meta, kept) -> list[Axis]:
    """Axes in acquisition order (outer first), cut to ``kept`` (None: uncut)."""
    axes = []
    for pos, i in enumerate(order):
        spec = recipe.axes[i]
        meta = dict(ax_meta[i]) | {"recipe": recipe.origin}
        values = ax_values[i] if kept is None else ax_values[i][: kept[pos]]
        axes.append(Axis(spec.name, values, spec.unit, spec.role, meta))
    return axes
