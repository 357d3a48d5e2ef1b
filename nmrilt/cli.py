"""The ``nmrilt`` command: run, batch, watch, plot, info.

Exit codes (also in docs/cli.md):

===  ==========================================================================
0    success
1    batch/watch: at least one experiment failed (the others were processed)
2    usage or input error: bad arguments, unreadable experiment, nonexistent batch/watch
     root, invalid settings, processing or solver input error, missing or unreadable
     result.h5 given to ``plot``
3    output error: result exists (use --force), output folder not writable (use --out)
4    unexpected internal error (a bug: one line on stderr, the traceback in a log file,
     see :mod:`nmrilt.crashlog`)
5    --strict: finished, but with warnings (diagnostics of the result: not converged,
     residuals beyond the noise model, component outside the sampled range,
     implausible phase; or reading/processing warnings) — see :mod:`nmrilt.diagnostics`
130  interrupted (Ctrl-C / SIGTERM)
===  ==========================================================================
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError, NmriltError, OutputError, ResultFileError
from .readers.experiment import USER_KINDS

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_OUTPUT, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
#: ``--strict``: every experiment finished, but at least one result carries warnings.
EXIT_WARNINGS = 5


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is read as a TOML value (numbers, true, [..]) or a string."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: use KEY=VALUE, e.g. --set max_iter=50")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value
    return out


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    s = _parse_set(getattr(args, "set", []))
    if getattr(args, "kind", None):
        s["kind"] = args.kind
    if getattr(args, "formats", None):
        s["formats"] = args.formats
    if getattr(args, "uncertainty", None) is not None:
        s["resamples"] = args.uncertainty
    if getattr(args, "seed", None) is not None:
        s.setdefault("uncertainty", {})["seed"] = args.seed
    if getattr(args, "topspin", False):
        s["topspin"] = True
    if getattr(args, "procno", None) is not None:
        s["topspin"], s["topspin_procno"] = True, args.procno
    return s


def _resamples(text: str) -> str | int:
    """``--uncertainty``: "auto" or a whole number."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of resamples or auto") from None


def _common(p: argparse.ArgumentParser, out_help: str) -> None:
    p.add_argument("--out", metavar="DIR", help=out_help)
    p.add_argument("--config", metavar="FILE", help="settings file (nmrilt.toml format)")
    p.add_argument("--kind", choices=USER_KINDS,
                   help="experiment kind, for pulse programs nmrilt does not know")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="any setting, e.g. --set shift_mode=\"sum\" --set max_iter=50 "
                        "(repeatable; see docs/cli.md)")
    p.add_argument("--formats", type=lambda s: [f for f in s.split(",") if f],
                   metavar="png,pdf,svg", help="figure formats")
    p.add_argument("--topspin", action="store_true",
                   help="Bruker: also write the map as a TopSpin processed dataset pdata/<N> "
                        "(N: nmrilt's own procno or the first free one >= 999)")
    p.add_argument("--uncertainty", type=_resamples, metavar="N|auto",
                   help="noise resamples for confidence intervals in peaks.csv and a "
                        "standard-deviation map in result.h5 (0: none; default auto: 40 when "
                        "they fit in 2x the inversion time on this machine's cores)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="random seed of the resampling (default 0; same seed, same intervals)")
    p.add_argument("--strict", action="store_true",
                   help=f"exit with code {EXIT_WARNINGS} when a result carries warnings "
                        "(not converged, residuals beyond the noise model, component outside "
                        "the sampled range, implausible phase); results are written anyway")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="nmrilt",
        description="Signed inverse Laplace transforms of NMR relaxation/diffusion "
                    "experiments; results are written beside the raw data.",
        epilog="Exit codes: 0 ok, 1 some experiments failed, 2 usage/input error, "
               "3 output error (exists / not writable), 4 internal error, "
               f"{EXIT_WARNINGS} warnings with --strict, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"nmrilt {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress output, warnings and errors only")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every step (nmrilt's own debug lines; libraries stay quiet)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="invert one experiment folder")
    p.add_argument("expdir", type=Path, metavar="EXPDIR")
    p.add_argument("--force", action="store_true", help="replace an existing result")
    _common(p, "write the results into DIR (default EXPDIR/nmrilt)")
    p.add_argument("--procno", type=int, metavar="N",
                   help="write the TopSpin view into pdata/N (implies --topspin)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run the uncertainty resamples as tasks on a Dask cluster (a scheduler "
                        "address, or 'local'); default: worker processes of this machine")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes of --scheduler local, or without it the local "
                        "processes of the uncertainty resamples (default: one per core)")

    p = sub.add_parser("batch", help="every experiment below ROOT, skipping finished ones")
    p.add_argument("root", type=Path, metavar="ROOT")
    p.add_argument("--force", action="store_true", help="redo finished experiments too")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run the experiments as tasks on a Dask cluster: a scheduler address "
                        "(tcp://host:8786) or 'local' for one on this machine "
                        '(needs pip install "nmrilt[dask]")')
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes of --scheduler local (default: one per core)")
    _common(p, "mirror results below DIR (default: beside each experiment)")

    p = sub.add_parser("watch", help="process experiments below ROOT as acquisitions finish")
    p.add_argument("root", type=Path, metavar="ROOT")
    p.add_argument("--interval", type=float, default=30.0, metavar="S",
                   help="seconds between polls (default 30)")
    p.add_argument("--max-polls", type=int, default=None, metavar="N",
                   help="stop after N polls (default: run until stopped)")
    p.add_argument("--once", action="store_true",
                   help="two polls (look, confirm the data are still) then exit")
    p.add_argument("--stale-after", type=float, default=3600.0, metavar="S",
                   help="process an incomplete data file unchanged for S seconds (default 3600)")
    p.add_argument("--state", type=Path, metavar="FILE",
                   help="state file (default OUT-or-ROOT/.nmrilt-watch.json)")
    _common(p, "mirror results below DIR (default: beside each experiment)")

    p = sub.add_parser("plot", help="re-render the figures of a result without inverting")
    p.add_argument("result", type=Path, metavar="RESULT.h5")
    p.add_argument("--out", metavar="DIR",
                   help="folder for the figures (default: beside RESULT.h5, named "
                        "map_<W>mm.<fmt> so map.* of the run stay as they are)")
    p.add_argument("--name", metavar="BASE",
                   help="file name without extension (default map_<W>mm beside the result, "
                        "map with --out)")
    p.add_argument("--formats", type=lambda s: [f for f in s.split(",") if f],
                   metavar="png,pdf,svg")
    p.add_argument("--no-title", dest="title", action="store_false", default=None,
                   help="leave out the figure title")
    p.add_argument("--no-residuals", dest="residuals", action="store_false", default=None,
                   help="leave out the residuals panel")
    p.add_argument("--tau-axis", choices=("shade", "crop", "grid"),
                   help="shade: sampled range and a margin, unsampled part shaded (default); "
                        "crop: the sampled range only; grid: the whole tau grid, shaded")
    p.add_argument("--width-mm", type=float, help="figure width in mm")
    p.add_argument("--height-mm", type=float, help="figure height in mm (0: automatic)")
    p.add_argument("--font-size", type=float, help="font size in points")
    p.add_argument("--dpi", type=int, help="PNG resolution")

    p = sub.add_parser("info", help="describe an experiment folder (what nmrilt reads)")
    p.add_argument("expdir", type=Path, metavar="EXPDIR")
    p.add_argument("--kind", choices=USER_KINDS, help="experiment kind override")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    result = run(args.expdir, out=args.out, config=args.config, force=args.force,
                 progress=not args.quiet, scheduler=args.scheduler, workers=args.workers,
                 **_settings(args))
    if not args.quiet:
        print(f"{args.expdir}: results in {result.path} "
              f"(converged={result.converged}, "
              f"{result.iterations} iterations)")
        if result.topspin is not None:
            print(f"{args.expdir}: TopSpin view in {result.topspin}")
        if result.warnings:
            print(f"{args.expdir}: {len(result.warnings)} warning(s), see "
                  f"{result.path}/report.txt")
    return _strict_code(args, bool(result.warnings))


def _strict_code(args: argparse.Namespace, warned: bool) -> int:
    """EXIT_WARNINGS under --strict when something warned, else EXIT_OK."""
    return EXIT_WARNINGS if getattr(args, "strict", False) and warned else EXIT_OK


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch import batch

    summary = batch(args.root, out=args.out, config=args.config, force=args.force,
                    progress=not args.quiet, scheduler=args.scheduler, workers=args.workers,
                    **_settings(args))
    if not args.quiet or summary.failed:
        print(summary.text(), file=sys.stderr if summary.failed else sys.stdout)
    return _strict_code(args, bool(summary.warnings)) if summary.ok else EXIT_FAILED


def _cmd_watch(args: argparse.Namespace) -> int:
    from .watch import watch

    max_polls = 2 if args.once else args.max_polls
    summary = watch(args.root, out=args.out, config=args.config, interval=args.interval,
                    max_polls=max_polls, stale_after_s=args.stale_after,
                    state_file=args.state, progress=not args.quiet, **_settings(args))
    if not args.quiet:
        print(f"{len(summary.done)} processed, {len(summary.failed)} failed "
              f"in {summary.polls} polls, {len(summary.warnings)} with warnings")
    return _strict_code(args, bool(summary.warnings)) if summary.ok else EXIT_FAILED


def _cmd_plot(args: argparse.Namespace) -> int:
    from .pipeline import replot

    opts = {k: v for k, v in {"formats": args.formats, "width_mm": args.width_mm,
                              "height_mm": args.height_mm, "font_size": args.font_size,
                              "dpi": args.dpi, "title": args.title,
                              "residuals": args.residuals,
                              "tau_axis": args.tau_axis}.items() if v is not None}
    try:
        paths = replot(args.result, out=args.out, name=args.name, **opts)
    except ResultFileError as exc:  # the result is plot's input: exit 2, not 3
        print(f"nmrilt: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not args.quiet:
        for p in paths:
            print(p)
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    from . import readers

    overrides = {"kind": args.kind} if args.kind else {}
    exp = readers.read(args.expdir, **overrides)
    describe = getattr(readers, "describe", None)
    print(describe(exp) if describe else repr(exp))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nmrilt`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="nmrilt: %(levelname)s: %(message)s")
    # -v: nmrilt's own debug lines only; matplotlib, fontTools, h5py ... stay at WARNING
    logging.getLogger("nmrilt").setLevel(logging.DEBUG if args.verbose else logging.NOTSET)
    commands = {"run": _cmd_run, "batch": _cmd_batch, "watch": _cmd_watch,
                "plot": _cmd_plot, "info": _cmd_info}
    from . import interrupts

    # clean stop on Ctrl-C and SIGTERM: no partial result; the request is also remembered
    # (nmrilt.interrupts) in case a library swallows the exception
    previous = {sig: signal.signal(sig, interrupts.handler)
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("nmrilt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputError as exc:
        print(f"nmrilt: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except NmriltError as exc:
        print(f"nmrilt: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # the one place a bug is reported (exit 4, traceback in a log)
        from .crashlog import report_internal_error

        print(f"nmrilt: {report_internal_error(exc, ' '.join(sys.argv))}", file=sys.stderr)
        return EXIT_BUG
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        interrupts.reset()


if __name__ == "__main__":
    sys.exit(main())
