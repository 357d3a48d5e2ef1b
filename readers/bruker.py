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
)

from . import pulseprogram, recipes
from .bruker_params import (
    AQSEQ_ORDER,
    BLOCK_BYTES,
    DTYPA_TYPES,
    binary_file,
    data_files,
    expected_data_size,
    experiment_meta,
    indirect_tds,
    is_experiment,
    locate,
    padded_fid_bytes,
    read_parameters,
)
from .bruker_pdata import operator_procnos, read_pdata, vendor_processing
from .checks import axis_values
from .experiment import Axis, Experiment
from .lists import ParsedList, parse_list, read_list
from .text import SUFFIXES as TEXT_SUFFIXES

log = logging.getLogger(__name__)

#: Placeholder list names written by old TopSpin versions ("no list").
_PLACEHOLDER = re.compile(r"^(D+|C+|P+|A+|F+|T+|)$")

#: Read options understood by this reader (besides the recipe keys).
OPTIONS = ("pdata", "allow_partial", "group_delay")

#: The reader contract (see :mod:`nmrilt.readers`); the folder questions and the
#: parameter files live in :mod:`nmrilt.readers.bruker_params`.
__all__ = ["AQSEQ_ORDER", "BLOCK_BYTES", "DTYPA_TYPES", "OPTIONS", "data_files",
           "expected_data_size", "guess_can_open", "is_experiment", "read", "read_parameters"]


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


def _read_fids(
    binfile: Path, acqus: Mapping[str, Any], acqus_path: Path
) -> tuple[np.ndarray, int, int]:
    """Return (complete FIDs trimmed to TD, number written, padded TD in values)."""
    dtypa, td = acqus["DTYPA"], acqus["TD"]  # checked by bruker_params.check_acqus
    letter, size = DTYPA_TYPES[dtypa]
    padded = padded_fid_bytes(acqus) // size  # values per stored FID (the padding rule)
    nbytes = binfile.stat().st_size
    n_written = nbytes // (padded * size)
    if n_written == 0:
        raise TruncatedDataError(
            f"{binfile} holds {nbytes} bytes, less than one complete FID "
            f"({padded * size} bytes for TD = {td}); the acquisition wrote no complete "
            f"increment — re-acquire or copy the complete file"
        )
    if acqus["NBL"] > 1:
        warnings.warn(
            f"{acqus_path}: NBL = {acqus['NBL']} (several FIDs per memory block) is untested; "
            f"FIDs are read as consecutive 1024-byte-aligned blocks", ReadWarning, stacklevel=3,
        )
    big = acqus["BYTORDA"] == 1
    cplex = acqus["AQ_mod"] in (1, 3)
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
    if not np.isfinite(raw).all():
        raise ReadError(
            f"{binfile} holds NaN or infinite values (DTYPA = {dtypa}: "
            f"{'float64' if dtypa == 2 else 'int32'} data); the file is damaged or DTYPA is "
            f"wrong — copy the data again or fix DTYPA in {acqus_path}"
        )
    fids = ng.bruker.complexify_data(raw) if cplex else raw.astype(complex)
    return fids, n_written, padded


def _remove_filter(
    fids: np.ndarray, acqus: Mapping[str, Any], acqus_path: Path, group_delay: float | None
) -> tuple[np.ndarray, float]:
    if acqus["DIGMOD"] == 0 and group_delay is None:
        return fids, 0.0
    decim, dspfvs = acqus["DECIM"], acqus["DSPFVS"]
    grpdly = float(group_delay if group_delay is not None else acqus["GRPDLY"])
    if not (np.isfinite(grpdly) and grpdly < fids.shape[-1]):
        raise ParameterFileError(
            f"{acqus_path}: group delay {grpdly!r} points is not a finite number below the "
            f"{fids.shape[-1]} points of a FID; fix GRPDLY or pass group_delay=<points>"
        )
    try:
        phase = grpdly if grpdly > 0 else (
            0.0 if dspfvs >= 14 else ng.bruker.bruker_dsp_table[dspfvs][decim]
        )
        out = ng.bruker.rm_dig_filter(fids, decim, dspfvs, grpdly, truncate_grpdly=False)
    except (KeyError, ValueError, IndexError, TypeError):
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
    expdir, procno = locate(Path(path))
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
    program = _program(expdir, pprog) if recipe else None
    ax_values: list[np.ndarray] = []
    ax_meta: list[dict[str, Any]] = []
    for (td_src, td), spec in zip(indirect, recipe.axes if recipe else ()):
        vals, meta = recipes.build_values(
            spec, td, get_list, acqus, recipe_pprog, nucleus, recipe.options, str(acqus_path),
            program, expdir,
        )
        source = meta.get("source", spec.name)
        vals = _check_length(vals, td, spec.name, source, td_src)
        ax_values.append(axis_values(vals, spec.name, spec.role, source))
        ax_meta.append(meta)

    notes = [n for m in ax_meta for n in m.get("notes", ())]
    binfile = binary_file(expdir, bool(indirect))
    if procno is None and binfile is None and len(indirect) < 2:
        procno = _processed_only(expdir, bool(indirect))
        if procno is not None:
            notes.append(f"no fid/ser in {expdir.name}: read TopSpin's processed spectra "
                         f"pdata/{procno} (pass pdata=N to choose another)")
    if procno is not None:
        exp = read_pdata(expdir, procno, dic, files, pprog, recipe, indirect,
                         _indirect_axes(recipe, order, ax_values, ax_meta, None))
        exp.meta["notes"] = notes
        return exp

    if binfile is None:
        raise TruncatedDataError(
            f"{expdir} has parameters but no fid/ser file: the acquisition wrote no data. "
            f"Re-acquire, or copy the experiment folder again with its fid/ser"
        )
    fids, n_written, _padded = _read_fids(binfile, acqus, acqus_path)
    files.append(binfile)
    fids, group_delay = _remove_filter(fids, acqus, acqus_path, overrides.get("group_delay"))
    ordered = [indirect[i][1] for i in order]
    kept = _rows_kept(binfile, n_written, ordered, overrides.get("allow_partial", True))
    data = fids[: int(np.prod(kept))].reshape(*kept, fids.shape[-1]) if kept else fids[0]

    meta = experiment_meta(dic, pprog, expdir, None, files)
    meta["group_delay_points"] = group_delay
    vendor = vendor_processing(expdir, bool(indirect), files, notes)
    if vendor is not None:
        meta["vendor_processing"] = vendor
    meta["notes"] = notes
    meta["aqseq"] = AQSEQ_ORDER.get(acqus["AQSEQ"], "321") if len(order) == 2 else ""
    direct = Axis(
        "time", np.arange(data.shape[-1]) / meta["sw_hz"], "s", "direct",
        {k: meta[k] for k in ("sw_hz", "sfo1_mhz", "bf1_mhz", "carrier_ppm")}
        | {"group_delay_points": group_delay, "td": acqus["TD"]},
    )
    axes = _indirect_axes(recipe, order, ax_values, ax_meta, kept) + [direct]
    return Experiment(
        data=data, axes=tuple(axes), meta=meta, source=expdir,
        kind=recipe.kind if recipe else "unknown", files=tuple(dict.fromkeys(files)),
    )


def _program(expdir: Path, pulprog: str) -> pulseprogram.PulseProgram | None:
    """The parsed pulse program text of the experiment (``None`` when there is none)."""
    found = pulseprogram.find_text(expdir, pulprog)
    if found is None:
        return None
    text, path = found
    return pulseprogram.parse(text, str(path))


def _processed_only(expdir: Path, nd: bool) -> int | None:
    """The lowest procno holding TopSpin's processed spectra (``2rr`` / ``1r``) when the
    folder has no raw data; ``None`` when there is none.  Procnos nmrilt wrote (its map
    view, marked by ``nmrilt.json``) are never taken for spectra."""
    procnos = operator_procnos(expdir, "2rr" if nd else "1r")
    return procnos[0] if procnos else None


def _indirect_dims(expdir: Path, dic: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, int]]:
    """Indirect dimensions (source, TD), F1 first; from the file size when nothing else says."""
    try:
        indirect = indirect_tds(dic)
    except (TypeError, ValueError):
        raise ParameterFileError(
            f"{expdir / 'acqus'}: TD_INDIRECT = {dic['acqus'].get('TD_INDIRECT')!r} holds a "
            f"value that is not a whole number; copy an intact acqus from the spectrometer"
        ) from None
    if not indirect and (expdir / "ser").is_file() and not (expdir / "fid").is_file():
        n_fids = (expdir / "ser").stat().st_size // padded_fid_bytes(dic["acqus"])
        if n_fids > 1:  # no acqu2s and no TD_INDIRECT: the file size tells the rows
            indirect = [("ser file size", n_fids)]
    if len(indirect) > 2:
        raise ReadError(f"{expdir}: {len(indirect) + 1}-D data are not supported "
                        f"(pseudo-2D/3D only)")
    return indirect


def _suggest_kind(expdir: Path, n_indirect: int) -> str:
    """The kind quoted in the unknown-pulse-program message: the first kind (table order)
    whose default axes need exactly the lists present, else t1_ir / t1_t2."""
    for name, axes in recipes.KIND_DEFAULT_AXES.items():
        lists = [recipes.AXIS_SHORTCUTS[a].list_name for a in axes]
        if len(lists) == n_indirect and all((expdir / n).is_file() for n in lists):
            return name
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
            f"(kind: {', '.join(recipes.KIND_DEFAULT_AXES)}; axes: "
            f"vdlist, echo_time, b_value, gradient, vtlist, index), or call "
            f"nmrilt.read(path, kind=\"{kind}\")."
        )
    log.debug("%s: kind %s, recipe from %s", expdir, recipe.kind, recipe.origin)
    return recipe, toml_table


def _loop_order(acqus: Mapping[str, Any], acqus_path: Path, n_indirect: int) -> list[int]:
    """Positions (in TopSpin order F1, F2) of the indirect dimensions, outer loop first."""
    if n_indirect < 2:
        return list(range(n_indirect))
    aqseq = acqus["AQSEQ"]
    if aqseq not in AQSEQ_ORDER:
        raise ParameterFileError(f"{acqus_path}: AQSEQ = {aqseq} is not 0 (321) or 1 (312)")
    return [1, 0] if aqseq == 1 else [0, 1]  # 312: F2 (acqu2s) outer, F1 (acqu3s) inner


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
