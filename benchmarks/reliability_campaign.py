"""Reliability campaign: broken inputs, kills and watcher restarts through ``nmrilt run``.

Builds corrupted copies of the bundled example experiments (seeded, deterministic), runs
``nmrilt -q run`` on each in a subprocess with a time limit, and classifies the outcome:

* ``result``     exit 0 and a complete result folder (manifest + every listed file)
* ``refused``    exit 2/3 with a short message and no traceback
* ``traceback``  exit 4, or ``Traceback`` printed (a bug)
* ``hang``       still running after ``--timeout`` seconds
* ``raw``        a raw file changed, or a file appeared in the experiment folder outside
                 ``nmrilt/`` (a staging folder there counts)
* ``partial``    an incomplete output folder or a staging folder left behind
* ``accepted``   exit 0 for an input that must be refused (e.g. SW_h = -6000)
* ``nonfinite``  exit 0 but the distribution holds NaN or inf

Kill scenarios SIGKILL ``nmrilt run --force`` over an existing result at seeded moments and
check that the folder holds the previous or the new complete result, and that the next run
leaves no staging behind; watcher scenarios kill ``nmrilt watch`` mid-processing and
restart it.

    python benchmarks/reliability_campaign.py            # the full campaign (>= 400 cases)
    python benchmarks/reliability_campaign.py --sample 60 --seed 1

The test suite runs a sample (tests/test_reliability_campaign.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "example_datasets"
BRUKER = ("bruker_t1ir_pseudo2d", "bruker_t2cpmg_pseudo2d", "bruker_diffusion_pseudo2d",
          "bruker_t1t2_pseudo3d")
VARIAN = "varian_t1_arrayed.fid"
#: Settings that keep each successful run short (written outside the experiment folder).
FAST_CONFIG = '[processing]\nshift_mode = "sum"\n[inversion]\nmax_iter = 25\n[output]\nformats = ["png"]\n'
OUTPUT_NAME = "nmrilt"
MANIFEST = ".nmrilt-result.json"
BAD_OUTCOMES = ("traceback", "hang", "raw", "partial", "accepted", "nonfinite")
#: Scenario outcomes that break a promise (the others are counted for information).
BAD_SCENARIOS = ("kill: result lost or raw changed", "kill: staging still there after the next run",
                 "kill: next run did not restore a clean folder", "watch restart: results missing",
                 "watch restart: staging left", "watch restart: raw changed")


@dataclass(frozen=True)
class Case:
    """One broken input: which example, how it is broken, what must happen."""

    name: str
    example: str
    mutate: Callable[[Path], None]
    must_refuse: bool = False
    folder_name: str | None = None


# --- mutations ------------------------------------------------------------------------------


def set_param(file: str, key: str, value: str) -> Callable[[Path], None]:
    """Replace a JCAMP ``##$KEY=`` value (or a procpar value) by raw text."""

    def apply(exp: Path) -> None:
        path = exp / file
        text = path.read_text(errors="replace")
        if file == "procpar":
            pattern = re.compile(rf"^({re.escape(key)} [^\n]*\n)([^\n]*)\n", re.M)
            new, n = pattern.subn(lambda m: f"{m.group(1)}1 {value}\n", text, count=1)
        else:
            pattern = re.compile(rf"^(##\${re.escape(key)}=)[^\n]*$", re.M)
            new, n = pattern.subn(lambda m: f"{m.group(1)} {value}", text, count=1)
        if n == 0:
            raise LookupError(f"{key} not in {path}")
        path.write_text(new)

    return apply


def drop_param(file: str, key: str) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        path = exp / file
        lines = path.read_text(errors="replace").splitlines(keepends=True)
        path.write_text("".join(ln for ln in lines if not ln.startswith(f"##${key}=")))

    return apply


def short_array(file: str, key: str, n: int) -> Callable[[Path], None]:
    """Make a JCAMP array (``##$D= (0..63)`` + values) hold only ``n`` values."""

    def apply(exp: Path) -> None:
        path = exp / file
        text = path.read_text(errors="replace")
        m = re.search(rf"^##\${key}= \(0\.\.\d+\)\n(.*?)(?=^##)", text, re.M | re.S)
        if m is None:
            raise LookupError(f"array {key} not in {path}")
        values = m.group(1).split()[:n]
        text = text[: m.start()] + f"##${key}= (0..{n - 1})\n{' '.join(values)}\n" + text[m.end():]
        path.write_text(text)

    return apply


def truncate(file: str, fraction: float) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        path = exp / file
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return apply


def write_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        (exp / file).write_bytes(data)

    return apply


def append_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        with (exp / file).open("ab") as fh:
            fh.write(data)

    return apply


def remove(*files: str) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        for file in files:
            target = exp / file
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()

    return apply


def replace_line(file: str, index: int, text: str) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        lines = (exp / file).read_text().splitlines()
        lines[index % len(lines)] = text
        (exp / file).write_text("\n".join(lines) + "\n")

    return apply


def noise_bytes(file: str, seed: int) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        size = (exp / file).stat().st_size
        (exp / file).write_bytes(random.Random(seed).randbytes(size))

    return apply


def nan_in_ser(exp: Path) -> None:
    """Float64 ser (DTYPA 2) holding NaN: the reader must say so, not invert it."""
    import numpy as np

    raw = np.fromfile(exp / "ser", dtype="<i4").astype("<f8")
    raw[100] = np.nan
    raw.tofile(exp / "ser")
    set_param("acqus", "DTYPA", "2")(exp)


def toml(text: str | bytes) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        path = exp / "nmrilt.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return apply


def list_file(exp: Path) -> str:
    for name in ("vdlist", "vclist", "difflist"):
        if (exp / name).is_file():
            return name
    raise LookupError(f"no list in {exp}")


def edit_list(kind: str) -> Callable[[Path], None]:
    def apply(exp: Path) -> None:
        name = list_file(exp)
        lines = [ln for ln in (exp / name).read_text().splitlines() if ln.strip()]
        if kind == "short":
            lines = lines[: max(1, len(lines) // 2)]
        elif kind == "empty":
            lines = []
        elif kind == "long":
            lines = lines + lines
        elif kind in ("-0.5", "inf", "1e999", "nan", "abc", "1.0x", "-1m"):
            lines[len(lines) // 2] = kind
        elif kind == "all_zero":
            lines = ["0"] * len(lines)
        (exp / name).write_text("\n".join(lines) + ("\n" if lines else ""))

    return apply


# --- the case table ---------------------------------------------------------------------------


JCAMP_VALUES = ("abc", "0", "-5", "1e999", "nan", "", "1", "8191", "<abc>", "99999999999")
ACQUS_KEYS = ("TD", "SW_h", "SFO1", "BF1", "DTYPA", "BYTORDA", "DECIM", "DSPFVS", "GRPDLY",
              "O1", "NS", "TE", "AQ_mod", "PULPROG")
#: Inputs that must be refused (silently accepting them gives a wrong result).
MUST_REFUSE = {("SW_h", "-6000"), ("SFO1", "0"), ("BF1", "0"), ("TD", "1"), ("TD", "0"),
               ("TD", "-5"), ("SW_h", "0")}
PROCPAR_CASES = [("sfrq", "0"), ("sfrq", "abc"), ("sw", "abc"), ("sw", "0"), ("sw", "-4000"),
                 ("np", "0"), ("np", "-5"), ("np", "abc"), ("np", "1e999"), ("temp", "abc"),
                 ("d2", "-1"), ("d2", "abc"), ("d2", "inf"), ("arraydim", "0"),
                 ("arraydim", "abc"), ("arraydim", "99"), ("array", '"nope"'),
                 ("seqfil", '"mystery"'), ("tof", "abc"), ("nt", "abc")]
TOML_CASES = [
    ("garbage", b"\x00\xff\xfe binary \x01\x02", False),
    ("max_iter_x", '[inversion]\nmax_iter = "x"\n', False),
    ("max_iter_neg", "[inversion]\nmax_iter = -3\n", True),
    ("formats_3", "[output]\nformats = 3\n", False),
    ("formats_bmp", '[output]\nformats = ["bmp"]\n', False),
    ("ppd_nan", "[processing]\npoints_per_decade = nan\n", True),
    ("ppd_inf", "[processing]\npoints_per_decade = inf\n", True),
    ("ppd_zero", "[processing]\npoints_per_decade = 0\n", True),
    ("extend_nan", "[processing]\nextend_decades = nan\n", True),
    ("pdata_x", '[read]\npdata = "x"\n', False),
    ("width_huge", "[output]\nwidth_mm = 1e5\n", True),
    ("dpi_huge", "[output]\ndpi = 100000\n", True),
    ("cmap_unknown", '[output]\ncmap_signed = "no_such_map"\n', True),
    ("unknown_key", "[processing]\nmax_shift_point = 8\n", True),
    ("unknown_section", "[procesing]\nshift_mode = \"sum\"\n", True),
    ("nonneg_yes", '[inversion]\nnonneg = "yes"\n', True),
    ("alpha_huge", "[inversion]\nalpha_00 = 1e308\n", True),
    ("alpha_neg", "[inversion]\nalpha_00 = -1\n", True),
    ("kind_bad", '[experiment]\nkind = "t9_magic"\n', True),
    ("crop_bad", '[processing]\ncrop = [5]\n', True),
    ("regions_bad", '[processing]\nshift_mode = "regions"\nregions = [[1, "a"]]\n', True),
    ("tol_nan", "[inversion]\ntol = nan\n", True),
    ("unterminated", '[processing]\nshift_mode = "sum\n', False),
]


def build_cases() -> list[Case]:
    """Every case of the full campaign, in a fixed order."""
    cases: list[Case] = []
    for i, ex in enumerate(BRUKER):
        for key in ACQUS_KEYS:
            for value in JCAMP_VALUES if i in (0, 3) else JCAMP_VALUES[:4]:
                cases.append(Case(f"{ex}:acqus:{key}={value!r}", ex, set_param("acqus", key, value),
                                  must_refuse=(key, value) in MUST_REFUSE))
        cases.append(Case(f"{ex}:acqus:SW_h=-6000", ex, set_param("acqus", "SW_h", "-6000"), True))
        for value in ("0", "-5", "", "abc", "1", "100000"):
            cases.append(Case(f"{ex}:acqu2s:TD={value!r}", ex, set_param("acqu2s", "TD", value),
                              must_refuse=value in ("0", "-5", "")))
        cases.append(Case(f"{ex}:acqu2s:no TD", ex, drop_param("acqu2s", "TD"), True))
        for arr in ("D", "P"):
            for n in (3, 21, 33):
                cases.append(Case(f"{ex}:acqus:{arr}[:{n}]", ex, short_array("acqus", arr, n)))
        for file in ("acqus", "acqu2s"):
            for frac in (0.0, 0.1, 0.3, 0.5, 0.7, 0.95):
                cases.append(Case(f"{ex}:{file} cut at {frac}", ex, truncate(file, frac)))
        for frac in (0.0, 0.001, 0.3, 0.5, 0.99):
            cases.append(Case(f"{ex}:ser cut at {frac}", ex, truncate("ser", frac)))
        cases.append(Case(f"{ex}:ser +13 bytes", ex, append_bytes("ser", b"x" * 13)))
        cases.append(Case(f"{ex}:ser random", ex, noise_bytes("ser", 7)))
        cases.append(Case(f"{ex}:ser missing", ex, remove("ser"), True))
        cases.append(Case(f"{ex}:ser NaN", ex, nan_in_ser, True))
        # acqu (TopSpin's start copy) stands in for a missing acqus (docs/formats.md)
        cases.append(Case(f"{ex}:acqus missing, acqu kept", ex, remove("acqus")))
        cases.append(Case(f"{ex}:acqus and acqu missing", ex, remove("acqus", "acqu"), True))
        cases.append(Case(f"{ex}:acqu2s missing", ex, remove("acqu2s")))
        cases.append(Case(f"{ex}:pulseprogram garbage", ex, write_bytes("pulseprogram", b"\xff\x00")))
        cases.append(Case(f"{ex}:pulseprogram missing", ex, remove("pulseprogram")))
        cases.append(Case(f"{ex}:pdata missing", ex, remove("pdata")))
        cases.append(Case(f"{ex}:procs garbage", ex, write_bytes("pdata/1/procs", b"##$SI= abc\n")))
        for kind in ("short", "empty", "long", "-0.5", "inf", "1e999", "nan", "abc", "1.0x",
                     "-1m", "all_zero"):
            cases.append(Case(f"{ex}:list {kind}", ex, edit_list(kind),
                              must_refuse=kind in ("short", "empty", "-0.5", "inf", "1e999",
                                                   "nan", "abc", "1.0x", "-1m", "all_zero")))
    for key, value in PROCPAR_CASES:
        refuse = (key, value) in {("sfrq", "0"), ("sw", "0"), ("sw", "-4000"), ("np", "0"),
                                  ("np", "-5"), ("d2", "-1"), ("d2", "inf")}
        cases.append(Case(f"varian:procpar:{key}={value}", VARIAN, set_param("procpar", key, value),
                          must_refuse=refuse))
    for frac in (0.0, 0.2, 0.5, 0.9):
        cases.append(Case(f"varian:procpar cut at {frac}", VARIAN, truncate("procpar", frac)))
        cases.append(Case(f"varian:fid cut at {frac}", VARIAN, truncate("fid", frac)))
    cases.append(Case("varian:fid random", VARIAN, noise_bytes("fid", 3)))
    cases.append(Case("varian:fid missing", VARIAN, remove("fid"), True))
    for ex in (BRUKER[0], VARIAN):
        for label, text, refuse in TOML_CASES:
            cases.append(Case(f"{ex}:nmrilt.toml {label}", ex, toml(text), refuse))
    for ex in (BRUKER[0], BRUKER[3]):
        for label in ("$^$", "a{b}_c", "50% \\alpha", "ünïcödé ✓", "with space", "-dash"):
            cases.append(Case(f"{ex}:folder name {label!r}", ex, lambda exp: None,
                              folder_name=label))
    return cases


# --- running and judging ----------------------------------------------------------------------


#: Marker file nmrilt puts in each of its staging folders (nmrilt/staging.py).
STAGING_MARKER = ".nmrilt-staging.json"


def marked_staging(root: Path) -> set[Path]:
    """Staging folders below ``root`` that prove to be nmrilt's (they hold its marker)."""
    return {p for p in staging_leftovers(root) if (p / STAGING_MARKER).is_file()}


def digest(root: Path, skip_output: bool = True, skip: set[Path] = frozenset()) -> dict[str, str]:
    """SHA-256 of every file below ``root``; ``nmrilt`` output folders are skipped, and
    the folders in ``skip`` (nmrilt's marked staging, right after a kill)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if skip_output and OUTPUT_NAME in rel.parts:
            continue
        if any(p == s or s in p.parents for s in skip):
            continue
        if p.is_file() and not p.is_symlink():
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(rel) + "/"] = "dir"
    return out


def staging_leftovers(root: Path) -> list[Path]:
    """Temporary folders nmrilt stages results in (``.nmrilt*.tmp`` / ``.nmrilt.old-*``)."""
    return [p for p in root.rglob(".*") if p.is_dir() and (
        p.name.endswith(".tmp") or ".old-" in p.name) and "nmrilt" in p.name]


def complete_result(folder: Path) -> bool:
    """True when ``folder`` holds a manifest and every file it lists, non-empty."""
    try:
        listed = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(listed) and all((folder / n).is_file() and (folder / n).stat().st_size > 0
                                for n in listed)


def finite_result(folder: Path) -> bool:
    import h5py
    import numpy as np

    with h5py.File(folder / "result.h5", "r") as f:
        return bool(np.all(np.isfinite(f["g"][()])))


def nmrilt_command() -> list[str]:
    exe = Path(sys.executable).with_name("nmrilt")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nmrilt.cli"]


def run_case(case: Case, work: Path, config: Path, timeout: float, index: int = 0
             ) -> tuple[str, str]:
    """Build the broken copy, run ``nmrilt run`` on it, return (outcome, detail)."""
    # the index keeps names apart that differ only in punctuation (DTYPA='abc', '<abc>')
    root = work / f"{index:04d}_{re.sub(r'[^A-Za-z0-9]+', '_', case.name)[:80]}"
    exp = root / (case.folder_name or case.example)
    shutil.copytree(EXAMPLES / case.example, exp, ignore=shutil.ignore_patterns(OUTPUT_NAME))
    case.mutate(exp)
    before = digest(root)
    try:
        proc = subprocess.run([*nmrilt_command(), "-q", "run", str(exp), "--config", str(config)],
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "MPLBACKEND": "Agg",
                                   "XDG_STATE_HOME": str(work / "state")})
    except subprocess.TimeoutExpired:
        return "hang", f"> {timeout:.0f} s"
    err = (proc.stderr or "").strip()
    last = err.splitlines()[-1][:160] if err else ""
    out = exp / OUTPUT_NAME
    if proc.returncode == 4 or "Traceback" in err:
        return "traceback", last
    if digest(root) != before:
        changed = set(digest(root).items()) ^ set(before.items())
        return "raw", f"changed: {sorted({k for k, _ in changed})[:3]}"
    if staging_leftovers(root) or (out.exists() and not complete_result(out)):
        return "partial", last
    if proc.returncode == 0:
        if not complete_result(out):
            return "partial", "exit 0 without a complete result"
        if not finite_result(out):
            return "nonfinite", "g holds NaN/inf"
        if case.must_refuse:
            return "accepted", "exit 0 for an input that must be refused"
        return "result", ""
    if proc.returncode in (2, 3):
        return "refused", last
    return "traceback", f"exit {proc.returncode}: {last}"


def kill_scenarios(work: Path, config: Path, n: int, seed: int) -> Counter:
    """SIGKILL ``nmrilt run --force`` over an existing result at seeded moments."""
    rng = random.Random(seed)
    counts: Counter = Counter()
    exp = work / "kill" / BRUKER[3]
    shutil.copytree(EXAMPLES / BRUKER[3], exp, ignore=shutil.ignore_patterns(OUTPUT_NAME))
    cmd = [*nmrilt_command(), "-q", "run", str(exp), "--config", str(config)]
    subprocess.run(cmd, capture_output=True, timeout=300)
    raw = digest(exp)
    for _ in range(n):
        proc = subprocess.Popen([*cmd, "--force"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.3, 4.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # a kill -9 cannot clean up: nmrilt's own marked staging may stay until the next
        # start (counted below), but raw files must be as they were
        left = marked_staging(exp.parent)
        ok = complete_result(exp / OUTPUT_NAME) and digest(exp, skip=left) == raw
        counts["kill: complete result kept" if ok else "kill: result lost or raw changed"] += 1
        if staging_leftovers(exp.parent):
            counts["kill: staging left until next run"] += 1
        subprocess.run([*cmd, "--force"], capture_output=True, timeout=300)
        if staging_leftovers(exp.parent):
            counts["kill: staging still there after the next run"] += 1
        if digest(exp) != raw or not complete_result(exp / OUTPUT_NAME):
            counts["kill: next run did not restore a clean folder"] += 1
    return counts


def watch_scenarios(work: Path, config: Path, n: int, seed: int) -> Counter:
    """Kill a watcher mid-processing, restart it once, check every result is whole."""
    rng = random.Random(seed)
    counts: Counter = Counter()
    for i in range(n):
        root = work / f"watch{i}"
        for ex in BRUKER[:3]:
            shutil.copytree(EXAMPLES / ex, root / ex, ignore=shutil.ignore_patterns(OUTPUT_NAME))
        raw = digest(root)
        base = [*nmrilt_command(), "-q", "watch", str(root), "--config", str(config),
                "--interval", "0.2", "--stale-after", "0"]
        proc = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(1.0, 6.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        subprocess.run([*base, "--once"], capture_output=True, timeout=600)
        whole = all(complete_result(root / ex / OUTPUT_NAME) for ex in BRUKER[:3])
        clean = not staging_leftovers(root)
        same = {k: v for k, v in digest(root).items() if not k.startswith(".nmrilt-watch")} == {
            k: v for k, v in raw.items() if not k.startswith(".nmrilt-watch")}
        counts["watch restart: all results complete" if whole else
               "watch restart: results missing"] += 1
        counts["watch restart: no staging left" if clean else
               "watch restart: staging left"] += 1
        if not same:
            counts["watch restart: raw changed"] += 1
    return counts


def run_campaign(sample: int | None = None, seed: int = 0, timeout: float = 60.0,
                 kills: int = 10, watches: int = 3, verbose: bool = True,
                 jobs: int = 1) -> dict:
    """Run the campaign (or a seeded sample of it) and return the counts and failures;
    ``jobs`` cases run side by side (each in its own folder and process)."""
    from concurrent.futures import ThreadPoolExecutor

    cases = build_cases()
    if sample is not None and sample < len(cases):
        cases = random.Random(seed).sample(cases, sample)
    counts: Counter = Counter()
    failures: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="nmrilt-campaign-") as tmp:
        work = Path(tmp)
        config = work / "fast.toml"
        config.write_text(FAST_CONFIG)
        t0 = time.perf_counter()

        def attempt(item: tuple[int, Case]) -> tuple[str, str]:
            try:
                return run_case(item[1], work / "cases", config, timeout, item[0])
            except LookupError as exc:      # the mutation does not apply to this example
                return "n/a", str(exc)

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            outcomes = pool.map(attempt, enumerate(cases, 1))
            for i, (case, (outcome, detail)) in enumerate(zip(cases, outcomes), 1):
                counts[outcome] += 1
                if outcome in BAD_OUTCOMES:
                    failures.append((case.name, outcome, detail))
                if verbose:
                    eta = (time.perf_counter() - t0) / i * (len(cases) - i)
                    print(f"[{i}/{len(cases)} ETA {eta:4.0f} s] {outcome:9s} {case.name}"
                          f"{'  ' + detail if outcome in BAD_OUTCOMES else ''}", flush=True)
        extra = Counter()
        if kills:
            extra += kill_scenarios(work, config, kills, seed)
        if watches:
            extra += watch_scenarios(work, config, watches, seed)
    return {"cases": sum(counts.values()) - counts["n/a"], "counts": dict(counts),
            "scenarios": dict(extra), "failures": failures, "kills": kills,
            "watches": watches}


def summary_line(report: dict) -> str:
    c = report["counts"]
    return (f"campaign: {report['cases']} broken inputs — {c.get('traceback', 0)} raw tracebacks, "
            f"{c.get('hang', 0)} hangs, {c.get('raw', 0)} raw files changed, "
            f"{c.get('partial', 0)} partial outputs, {c.get('accepted', 0)} silently accepted, "
            f"{c.get('nonfinite', 0)} non-finite results; {c.get('result', 0)} results, "
            f"{c.get('refused', 0)} clean refusals; {report.get('kills', 0)} kills + "
            f"{report.get('watches', 0)} watcher restarts, {bad_scenarios(report)} broke a promise")


def bad_scenarios(report: dict) -> int:
    """How many kill/watch scenario checks failed."""
    return sum(report["scenarios"].get(k, 0) for k in BAD_SCENARIOS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, help="run a seeded sample of N cases")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a run is a hang")
    ap.add_argument("--kills", type=int, default=10, help="kill scenarios (run --force)")
    ap.add_argument("--watches", type=int, default=3, help="watcher kill/restart scenarios")
    ap.add_argument("--jobs", type=int, default=1, help="cases run side by side")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    report = run_campaign(a.sample, a.seed, a.timeout, a.kills, a.watches, not a.quiet,
                          a.jobs)
    for name, outcome, detail in report["failures"]:
        print(f"BAD {outcome:9s} {name}: {detail}")
    for key, n in sorted(report["scenarios"].items()):
        print(f"{key}: {n}")
    print(summary_line(report))
    bad = sum(report["counts"].get(k, 0) for k in BAD_OUTCOMES) + bad_scenarios(report)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
