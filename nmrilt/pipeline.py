"""One experiment folder -> results beside the raw data.

``run`` wires the layers: settings (:mod:`nmrilt.config`) -> :func:`nmrilt.read` ->
:func:`nmrilt.processing.process` -> :func:`nmrilt.invert` -> ``result.h5``, ``peaks.csv``,
``report.txt``, ``map.csv`` and ``map.png/pdf/svg`` (:mod:`nmrilt.output`).

Output is all-or-nothing: everything is written into a hidden, marked staging folder
beside the output folder (created only once the inversion is done), which is renamed to
``<expdir>/nmrilt`` (or ``out``) only when complete; staging left by a killed run is
removed by the next start (:mod:`nmrilt.staging`).  Raw files are only ever opened for
reading.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import config as _config
from .errors import InversionInputError, NotAnExperimentError, OutputError
from .model import Result, from_inversion, jsonable
from .output.files import (
    OUTPUT_NAME,
    RESULT_FILE,
    check_output_location,
    check_replaceable,
    checksums,
    umask,
    write_manifest,
    write_text,
)
from .output.hdf5 import read_result, write_h5
from .output.report import write_peaks_csv, write_report
from .output.table import write_map_table
from .processing import process
from .staging import clean_stale, make_staging, publish

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_NAME", "RESULT_FILE", "diagnose", "is_finished", "output_dir", "replot", "run"]


def output_dir(expdir: str | Path, out: str | Path | None = None) -> Path:
    """Where the results of ``expdir`` go: ``out`` if given, else ``<expdir>/nmrilt``
    (``<file>.nmrilt`` beside a data file such as ``decay.csv``)."""
    if out is not None:
        return Path(out)
    expdir = Path(expdir)
    if expdir.is_file():
        return expdir.with_name(f"{expdir.name}.{OUTPUT_NAME}")
    return expdir / OUTPUT_NAME


def is_finished(expdir: str | Path, out: str | Path | None = None) -> bool:
    """True when a complete result exists for the experiment."""
    return (output_dir(expdir, out) / RESULT_FILE).is_file()


def _check_writable(outdir: Path) -> None:
    """Create the parents of ``outdir`` and check they can be written (before any work)."""
    parent = outdir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(parent, os.W_OK | os.X_OK)
    except OSError as exc:
        writable, reason = False, exc.strerror or str(exc)
    else:
        reason = "permission denied"
    if not writable:
        raise OutputError(
            f"cannot write results into {parent} ({reason}); the folder is "
            "read-only: pass --out DIR (Python: out=DIR) to write them elsewhere"
        )


def _staging_dir(outdir: Path) -> Path:
    """A marked staging folder beside ``outdir`` (:mod:`nmrilt.staging`)."""
    try:
        return make_staging(outdir, umask())
    except OSError as exc:
        raise OutputError(
            f"cannot write results into {outdir.parent} ({exc.strerror or exc}); the folder "
            "is read-only: pass --out DIR (Python: out=DIR) to write them elsewhere"
        ) from None


def _publish(staging: Path, outdir: Path, force: bool) -> None:
    """Rename the complete staging folder onto ``outdir``.

    An existing ``outdir`` is replaced only when it is recognisably an nmrilt result
    (checked again here, just before the rename) and ``force`` is given.
    """
    exists = outdir.exists() or outdir.is_symlink()
    if exists:
        check_replaceable(outdir, force)
    publish(staging, outdir, exists, umask())


def diagnose(result: Result, threshold: float = 0.15, name: str = "") -> Result:
    """``result`` with the failed checks of :func:`nmrilt.diagnostics.check` appended to its
    warnings, each also logged (stderr, even with ``-q``)."""
    from .diagnostics import check

    found = check(result, threshold)
    for d in found:
        log.warning("%s: %s", name or result.source, d)
    if not found:
        return result
    return replace(result, warnings=result.warnings + tuple(str(d) for d in found))


def write_outputs(
    result: Result,
    folder: Path,
    output: _config.OutputSettings,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Path]:
    """Write every result file into ``folder`` (each one atomically).

    Besides ``result.h5``, ``peaks.csv``, ``report.txt`` and the map: the exponential
    cross-check (:mod:`nmrilt.crosscheck`) as ``crosscheck.csv``, as columns of
    ``peaks.csv`` and as ``diagnostics.png/pdf`` (``spectrum``: the phased reference
    spectrum for its top panel, :attr:`nmrilt.model.Problem.spectrum`).
    """
    from .crosscheck import crosscheck, crosscheck_csv, peak_columns
    from .output.diagnostics_figure import plot_diagnostics
    from .output.plotting import plot_result
    from .uncertainty import uncertainty_columns

    folder = Path(folder)
    table = crosscheck(result)

    def xcheck(res: Result, rows: list) -> list:
        return peak_columns(res, rows, table)

    files = [
        write_h5(result, folder / RESULT_FILE),
        write_peaks_csv(result, folder / "peaks.csv", output.peak_threshold,
                        extra_columns={"crosscheck": xcheck,
                                       "uncertainty": uncertainty_columns}),
        write_report(result, folder / "report.txt", output.peak_threshold),
    ]
    map_file = write_map_table(result, folder, output.map_table)
    files += [map_file] if map_file is not None else []
    if table:
        files.append(write_text(folder / "crosscheck.csv", crosscheck_csv(table)))
    opts = output.to_dict()
    files += plot_result(result, folder, **opts)
    if table:
        files += plot_diagnostics(result, folder, table, spectrum, **opts)
    return files


def run(
    expdir: str | Path,
    out: str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
    workers: int | None = None,
    **settings: Any,
) -> Result:
    """Invert one experiment and write the results beside it.

    Parameters
    ----------
    expdir : path
        Experiment folder (Bruker EXPNO, VnmrJ ``.fid``) or data file.
    out : path, optional
        Output folder (default ``<expdir>/nmrilt``); needed when ``expdir`` is read-only.
    config : path or dict, optional
        Settings file (``--config``); ``<expdir>/nmrilt.toml`` is read as well.
    force : bool
        Replace an existing result.
    progress : bool
        Show the solver's progress line on stderr.
    scheduler : str, optional
        Where the uncertainty resamples run: default local worker processes
        (``uncertainty.workers``); ``"local"`` or a Dask scheduler address for a Dask
        cluster (:mod:`nmrilt.distributed`).  Same intervals for the same seed.
    workers : int, optional
        Worker processes of ``scheduler="local"``, or without ``scheduler`` the local
        resampling processes (overrides ``uncertainty.workers``; 1: in this process).
    **settings
        Keyword settings, e.g. ``kind="t1_ir"``, ``shift_mode="sum"``, ``max_iter=50``,
        ``formats=["png"]``, ``topspin=True`` (see :mod:`nmrilt.config`).

    Returns
    -------
    Result
        With ``path`` set to the output folder (and ``info["topspin"]``, the procno folder of
        the TopSpin view, when ``output.topspin`` is on: :mod:`nmrilt.output.topspin`).

    Raises
    ------
    ResultExistsError
        A result exists and ``force`` is False.
    OutputError
        The output folder cannot be written (the message suggests ``--out``), is the
        experiment folder or one of its parents, or holds files nmrilt did not write
        (nmrilt never replaces those, even with ``force``).
    ReadError, ProcessingError, ConfigError, InversionInputError
        From the layers, with the file or setting at fault.
    """
    from . import __version__, invert
    from .readers import read

    expdir = Path(expdir)
    if not expdir.exists():
        raise NotAnExperimentError(f"{expdir} does not exist; give an experiment folder or file")
    resolved = _config.load_settings(expdir if expdir.is_dir() else None, config, **settings)
    outdir = output_dir(expdir, out)
    check_output_location(expdir, outdir)
    clean_stale(outdir)
    check_replaceable(outdir, force)
    topspin_procno = _plan_topspin(expdir, resolved.output, force)
    read_opts = resolved.read_options()
    _check_writable(outdir)
    staging = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exp = read(expdir, **read_opts)
            problem = process(exp, resolved)
            inversion = invert(
                problem.data, t=list(problem.t), tau=list(problem.tau),
                kernels=list(problem.kernels), progress=progress, **resolved.inversion,
            )
        if not np.isfinite(inversion.g).all():
            raise InversionInputError(
                f"{expdir}: the inversion gave non-finite values (settings "
                f"{dict(resolved.inversion) or 'default'}); nothing was written — lower the "
                f"regularization (alpha_00) or check the data"
            )
        notes = [f"{w.category.__name__}: {w.message}" for w in caught]
        for note in notes:
            log.warning("%s: %s", expdir, note)
        sums = checksums(exp.files, expdir if expdir.is_dir() else expdir.parent)
        result = from_inversion(problem, inversion, resolved.to_dict(), sums, notes)
        result = diagnose(result, resolved.output.peak_threshold, str(expdir))
        result = with_uncertainty(result, resolved, progress, scheduler, workers)
        staging = _staging_dir(outdir)  # late: a killed run leaves it for the shortest time
        write_outputs(result, staging, resolved.output, problem.spectrum)
        write_manifest(staging, __version__)
        _publish(staging, outdir, force)
    finally:
        if staging is not None:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(staging)
    log.info("%s: results in %s", expdir, outdir)
    result = result.with_path(outdir)
    if topspin_procno is not None:
        from .output.topspin import write_topspin_procno

        try:
            view = write_topspin_procno(result, expdir, topspin_procno, force)
        except OutputError as exc:
            raise OutputError(f"results are in {outdir}, but not the TopSpin view: {exc}") from None
        result = replace(result, topspin=Path(view))
    return result


def with_uncertainty(
    result: Result, resolved: _config.Settings, progress: bool = False,
    scheduler: str | None = None, workers: int | None = None,
) -> Result:
    """``result`` with its noise-resampling intervals (:mod:`nmrilt.uncertainty`) when
    ``uncertainty.resamples`` asks for them or ``"auto"`` finds they fit the budget; the
    decision is recorded in ``parameters["uncertainty"]`` either way."""
    from .distributed import executor
    from .uncertainty import plan_resamples, uncertainty_of

    u = resolved.uncertainty
    n, why = plan_resamples(u.resamples, result.elapsed_s, u.budget, u.workers or None)
    params = {**result.parameters, "uncertainty": {"resamples": n, "why": why}}
    result = replace(result, parameters=jsonable(params))
    if n == 0:
        log.info("uncertainty: %s", why)
        return result
    if scheduler is None:  # local worker processes: ``workers`` or uncertainty.workers
        local = workers or u.workers or None
        scheduler, workers = (None, None) if local == 1 else ("processes", local)
    options = {k: v for k, v in resolved.inversion.items() if k != "progress"}
    with executor(scheduler, workers) as ex:
        unc = uncertainty_of(result, options, n, u.level, u.seed,
                             resolved.output.peak_threshold, ex, progress)
    log.info("uncertainty: %d resamples in %.1f s", unc.n_resamples, unc.elapsed_s)
    return replace(result, uncertainty=unc)


def _plan_topspin(expdir: Path, output: _config.OutputSettings, force: bool) -> int | None:
    """The procno of the TopSpin view (``output.topspin``), checked before any work; None
    when it is off or ``expdir`` is not a Bruker experiment (said in a warning)."""
    if not output.topspin:
        return None
    from .output.topspin import bruker_expno, plan_procno

    if bruker_expno(expdir) is None:
        log.warning("%s: not a Bruker experiment; no TopSpin view written", expdir)
        return None
    return plan_procno(expdir, output.topspin_procno or None, force)


def replot(
    result_path: str | Path, out: str | Path | None = None, name: str | None = None,
    **output: Any,
) -> list[Path]:
    """Re-render the figures of a written result without inverting again.

    Parameters
    ----------
    result_path : path
        ``result.h5`` or the folder holding it.
    out : path, optional
        Folder for the figures (default: beside ``result.h5``).
    name : str, optional
        File name without extension.  Default ``map_<W>mm`` (``W`` the width in mm) in the
        result folder, so the ``map.*`` of the run keep one width; ``map`` in another
        ``out`` folder.
    **output
        Keys of the ``output`` settings (``formats``, ``width_mm``, ``font_size``,
        ``title``, ``residuals``, ``tau_axis`` ...); by default those stored in the result.

    Returns
    -------
    list of pathlib.Path
        The figures written.  In the result folder they are added to its manifest, so the
        folder stays recognisably nmrilt's (``--force`` may still replace it).

    Raises
    ------
    ResultFileError
        ``result_path`` is missing or not an nmrilt result.
    """
    from .output.files import add_to_manifest
    from .output.plotting import plot_result

    result = read_result(result_path)
    stored = result.parameters.get("settings", {}).get("output", {})
    opts = _config.load_settings(output={**stored, **output}).output.to_dict()
    home = Path(result.path)
    folder = Path(out) if out is not None else home
    in_home = folder.resolve() == home.resolve()
    if name is None:
        name = f"map_{opts['width_mm']:g}mm" if in_home else "map"
    if in_home and name == "map":
        raise OutputError(f"{home}: map.* belong to the run; pick another --name or --out")
    folder.mkdir(parents=True, exist_ok=True)
    paths = plot_result(result, folder, basename=name, **opts)
    if in_home:
        add_to_manifest(home, [p.name for p in paths])
    return paths
