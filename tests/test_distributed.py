"""Batches and executors on a real Dask ``LocalCluster`` (worker processes, not threads).

The cluster results are compared with the local batch run on a copy of the same tree; worker
deaths are caused inside the workers by a preload script that ends the worker process in
the middle of writing a result.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_example
from pipeline_helpers import tree_digest

from nmrilt.batch import batch, find_experiments
from nmrilt.cli import main
from nmrilt.output.files import MANIFEST_NAME
from nmrilt.output.hdf5 import read_result

needs_dask = pytest.mark.skipif(find_spec("distributed") is None,
                                reason='dask is not installed (pip install "nmrilt[dask]")')

SMALL = ("bruker_t1ir_pseudo2d", "varian_t1_arrayed.fid")
FAST = ["--formats", "png", "--set", 'shift_mode="sum"', "--set", "max_iter=30"]
FAST_SETTINGS = {"formats": ["png"], "shift_mode": "sum", "max_iter": 30}
CLUSTER = ["--scheduler", "local", "--workers", "2"]


def _tree(root: Path, corrupt: bool = True) -> Path:
    """user/<name> for the small examples, plus a folder whose pulse program is unknown."""
    for name in SMALL:
        copy_example(name, root / "user" / name)
    if corrupt:
        bad = copy_example("bruker_t1ir_pseudo2d", root / "user" / "corrupt" / "7")
        (bad / "vdlist").unlink()
        (bad / "pulseprogram").write_text("; nothing here\n")
        (bad / "acqus").write_text((bad / "acqus").read_text().replace("<t1ir>", "<mystery>"))
    return root


def _peaks(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _assert_complete_or_absent(root: Path) -> list[Path]:
    """Every published result folder is whole; returns the staging folders left behind."""
    for folder in root.rglob("nmrilt"):
        listed = json.loads((folder / MANIFEST_NAME).read_text())["files"]
        assert sorted(p.name for p in folder.iterdir() if p.name != MANIFEST_NAME) == listed
        assert read_result(folder / "result.h5").g.size > 0
    staging = [p for p in root.rglob(".nmrilt.*") if p.is_dir()]
    assert all(p.name.endswith(".tmp") for p in staging)
    return staging


@pytest.fixture
def preload(tmp_path):
    """Make every (re)started worker run a script that ends its process while it writes.

    ``preload(poison=WORD)``: any experiment whose path holds WORD kills its worker each
    time; ``preload(once=True)``: the first result written on the cluster kills its worker.
    Returns the marker file the first kill creates.
    """
    import dask
    import distributed  # noqa: F401  (its config defaults must exist before we set one)

    settings = []

    def install(poison: str = "", once: bool = False) -> Path:
        marker = tmp_path / "killed-once"
        script = tmp_path / "die_while_writing.py"
        script.write_text(
            "import os\nimport nmrilt.pipeline as pipeline\n"
            "from nmrilt.output.files import write_manifest as _write\n"
            "def _dying(folder, version):\n"
            f"    if {poison!r} and {poison!r} in str(folder):\n"
            "        os._exit(1)\n"
            f"    if {once!r}:\n"
            "        try:\n"
            f"            os.close(os.open({str(marker)!r}, os.O_CREAT | os.O_EXCL))\n"
            "        except FileExistsError:\n"
            "            return _write(folder, version)\n"
            "        os._exit(1)\n"
            "    return _write(folder, version)\n"
            "pipeline.write_manifest = _dying\n"
        )
        settings.append(dask.config.set({"distributed.worker.preload": [str(script)]}))
        return marker

    yield install
    for ctx in reversed(settings):
        ctx.__exit__(None, None, None)


@needs_dask
def test_cluster_batch_matches_the_local_batch_and_isolates_a_corrupt_folder(tmp_path, capsys):
    local, remote = _tree(tmp_path / "local"), _tree(tmp_path / "cluster")
    before = tree_digest(remote)
    assert main(["-q", "batch", str(local), *FAST]) == 1
    capsys.readouterr()
    assert main(["batch", str(remote), *CLUSTER, *FAST]) == 1
    err = capsys.readouterr().err
    assert tree_digest(remote) == before, "the cluster batch changed a raw file"
    lines = [ln for ln in err.splitlines() if re.match(r"\[\d+/\d+\] ", ln)]
    assert len(lines) == 3 and all(ln.startswith(f"[{k}/3] ") for k, ln in enumerate(lines, 1))
    assert sum(": ok (" in ln for ln in lines) == 2 and "ETA" in lines[0]
    assert "FAILED" in err and "corrupt" in err and "2 done, 0 skipped" in err
    assert not (remote / "user" / "corrupt" / "7" / "nmrilt").exists()
    for name in SMALL:
        a = read_result(local / "user" / name / "nmrilt" / "result.h5")
        b = read_result(remote / "user" / name / "nmrilt" / "result.h5")
        # same code, same data; only BLAS threading may differ between the two processes
        np.testing.assert_allclose(b.g, a.g, rtol=1e-9, atol=1e-9 * np.abs(a.g).max())
        pa, pb = (_peaks(r / "user" / name / "nmrilt" / "peaks.csv") for r in (local, remote))
        assert len(pa) == len(pb) > 0 and pa[0].keys() == pb[0].keys()
        for ra, rb in zip(pa, pb):
            for key in ra:
                try:
                    assert float(rb[key]) == pytest.approx(float(ra[key]), rel=1e-6, abs=1e-9)
                except ValueError:
                    assert rb[key] == ra[key]
    # the finished ones are skipped on the client: only the corrupt one is sent again
    assert main(["batch", str(remote), *CLUSTER, *FAST]) == 1
    err = capsys.readouterr().err
    assert "0 done, 2 skipped" in err and "[1/1] " in err and "[2/" not in err


@needs_dask
def test_a_worker_killed_while_writing_is_retried_without_half_written_results(
        tmp_path, preload):
    root = _tree(tmp_path / "data", corrupt=False)
    marker = preload(once=True)
    summary = batch(root, scheduler="local", workers=2, progress=False, **FAST_SETTINGS)
    assert marker.exists(), "no worker was killed: the test did not test anything"
    assert summary.ok and len(summary.done) == len(SMALL)
    staging = _assert_complete_or_absent(root)
    assert len(staging) <= 1  # the killed task's staging folder, if nothing removed it
    assert all(p.parent in find_experiments(root) for p in staging)


@needs_dask
def test_an_experiment_that_keeps_killing_its_worker_is_reported_and_the_rest_finish(
        tmp_path, preload):
    root = _tree(tmp_path / "data", corrupt=False)
    copy_example("bruker_t1ir_pseudo2d", root / "user" / "poison")
    preload(poison="poison")
    summary = batch(root, scheduler="local", workers=2, progress=False, **FAST_SETTINGS)
    assert list(summary.failed) == [root / "user" / "poison"]
    assert "died repeatedly" in summary.failed[root / "user" / "poison"]
    assert len(summary.done) == len(SMALL)
    assert not (root / "user" / "poison" / "nmrilt").exists()
    _assert_complete_or_absent(root)


@needs_dask
def test_ctrl_c_cancels_the_tasks_closes_the_cluster_and_exits_130(tmp_path):
    import psutil  # comes with distributed

    root = tmp_path / "data"
    for i in range(6):
        copy_example("bruker_t1ir_pseudo2d", root / f"exp{i}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nmrilt.cli", "batch", str(root), *CLUSTER, *FAST],
        stderr=subprocess.PIPE, text=True,
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[1/6] "):
            break
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest and "[6/6]" not in rest and "Traceback" not in rest
    # workers, nannies' processes and multiprocessing's resource tracker all end
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert workers and not alive
    assert len(list(root.rglob("result.h5"))) < 6
    _assert_complete_or_absent(root)


def _noisy_sum(seed: int, data: np.ndarray, scale: float = 1.0) -> float:
    rng = np.random.default_rng(seed)
    return float(np.sum(data + scale * rng.standard_normal(data.shape)))


@needs_dask
def test_executor_gives_the_same_results_serially_and_on_a_cluster():
    import cloudpickle

    from nmrilt.distributed import executor

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tests are not installed
    data = np.linspace(0.0, 1.0, 50_000)
    seeds = list(range(12))
    with executor() as ex:
        serial = ex.map(_noisy_sum, seeds, data=data, scale=0.5)
    with executor("local", workers=2) as ex:
        clustered = ex.map(_noisy_sum, seeds, data=data, scale=0.5)
    assert clustered == serial
    assert len(set(serial)) == len(seeds)  # the seeds matter: not one value repeated


def test_scheduler_without_dask_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path / "data", corrupt=False)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["-q", "batch", str(root), "--scheduler", "local"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "nmrilt[dask]"' in err and "Traceback" not in err
    assert not list(root.rglob("result.h5"))


def test_workers_without_a_scheduler_is_a_usage_error(tmp_path, capsys):
    root = _tree(tmp_path / "data", corrupt=False)
    assert main(["-q", "batch", str(root), "--workers", "2"]) == 2
    assert "--scheduler local" in capsys.readouterr().err
