"""Batch work and repeated computations on a Dask cluster (optional extra ``nmrilt[dask]``).

Two entry points, both importing Dask only when called:

* :func:`run_on_cluster` — the experiments of a batch (:func:`nmrilt.batch.plan`) as one
  task each, running :func:`nmrilt.batch.attempt` on the workers, the same function the
  local batch runs.  Outcomes come back as tasks finish.
* :func:`executor` — an object with ``.map(fn, items, **common) -> list`` that runs
  ``fn(item, **common)`` for every item, serially, on local processes or on a cluster,
  results in input order
  (the seam for resampled inversions: ``ex.map(refit, seeds, problem=problem)``).

``scheduler`` is ``"local"`` (a ``LocalCluster`` on this machine: one single-threaded
worker process per core, or ``workers``) or the address of a running scheduler
(``tcp://host:8786``).  Workers need nmrilt installed and the data at the same paths;
paths are made absolute before they are sent.

A worker that dies while running a task (killed, out of memory) has its task started
again on another worker; a task on which :data:`ALLOWED_WORKER_DEATHS` + 1 workers died
is reported as failed (for ``"local"``; a remote scheduler applies its own
``distributed.scheduler.allowed-failures``, 3 by default).  Results are never half
written: the pipeline publishes each result folder by one rename (a killed task can leave
its hidden ``.nmrilt.*.tmp`` staging folder behind, never a partial result).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, Self, TypeVar

from .batch import Job, Outcome, attempt, describe_error
from .errors import NmriltError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Worker deaths a task may cause on a ``"local"`` cluster before it is reported failed.
ALLOWED_WORKER_DEATHS = 1
#: Seconds to wait for a remote scheduler to answer.
CONNECT_TIMEOUT_S = 30
INSTALL_HINT = 'pip install "nmrilt[dask]"'


def _distributed() -> ModuleType:
    """``dask.distributed``, or an error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise NmriltError(
            f"--scheduler needs Dask, which is not installed: {INSTALL_HINT} "
            "(or run without --scheduler to process experiments one by one)"
        ) from None
    return distributed


@contextlib.contextmanager
def connect(scheduler: str, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``; closes it (and a local cluster) on exit.

    Parameters
    ----------
    scheduler : str
        ``"local"`` or a scheduler address such as ``"tcp://10.0.0.5:8786"``.
    workers : int, optional
        Worker processes of a ``"local"`` cluster (default: one per core).

    Raises
    ------
    NmriltError
        Dask is not installed, ``workers`` is given with a remote scheduler or is < 1, or
        the scheduler cannot be reached.
    """
    distributed = _distributed()
    import dask

    if not log.isEnabledFor(logging.DEBUG):  # Dask's INFO lines drown the progress lines
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler == "local":
        n = workers if workers is not None else os.cpu_count() or 1
        if n < 1:
            raise NmriltError(f"--workers {n}: give at least 1 worker process")
        with dask.config.set(_local_cluster_config(dask.config)):
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        try:
            with distributed.Client(cluster) as client, _quiet_when_interrupted():
                yield client
        finally:
            cluster.close()
        return
    if workers is not None:
        raise NmriltError(
            f"--workers applies to --scheduler local only; the cluster at {scheduler} has "
            "the workers started on it (dask worker ...)"
        )
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as exc:
        raise NmriltError(
            f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start "
            "one with `dask scheduler` and give its tcp://HOST:PORT, or use --scheduler local"
        ) from None
    with client, _quiet_when_interrupted():
        yield client


def _local_cluster_config(config: ModuleType) -> dict[str, Any]:
    """Dask settings of a ``"local"`` cluster (``config``: ``dask.config``).

    * one task per worker thread at a time: a worker death then blames only the task it
      was running, not experiments merely queued on it;
    * no statistical profiler in the workers (it samples the running task every 10 ms:
      ~13 % more CPU per experiment) and no ``MALLOC_TRIM_THRESHOLD_`` (memory handed
      back at every free: ~8 %); measured with ``benchmarks/bench_dask_batch.py``.  The
      workers stay far below 1 GB without the trimming.
    """
    environ = dict(config.get("distributed.nanny.pre-spawn-environ"))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {
        "distributed.scheduler.allowed-failures": ALLOWED_WORKER_DEATHS,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ": environ,
    }


@contextlib.contextmanager
def _quiet_when_interrupted() -> Iterator[None]:
    """After Ctrl-C, hush Dask's warnings about the tasks it is told to drop."""
    try:
        yield
    except (KeyboardInterrupt, GeneratorExit):
        logging.getLogger("distributed").setLevel(logging.ERROR)
        raise


def describe_cluster(client: Any) -> str:
    """``Dask cluster tcp://...: 2 workers, 2 threads (dashboard http://...)``."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    link = client.dashboard_link if "dashboard" in info.get("services", {}) else None
    text = f"Dask cluster {client.scheduler.address}: {len(workers)} workers, {threads} threads"
    return f"{text} (dashboard {link})" if link else text


def _absolute(path: Any) -> Any:
    """Paths as absolute paths (workers need not share the client's working folder)."""
    return Path(path).absolute() if isinstance(path, str | os.PathLike) else path


def _collect(future: Any, expdir: Path) -> Outcome:
    """The outcome of one experiment's task, whatever happened to it."""
    distributed = _distributed()
    try:
        outcome = future.result()
    except distributed.KilledWorker:
        return Outcome(expdir, "the worker processes running it died repeatedly (killed, "
                               "or out of memory?); no result was written — rerun it alone "
                               "with `nmrilt run` to see why")
    except Exception as exc:  # noqa: BLE001  (a cancelled task, a lost connection: go on)
        return Outcome(expdir, describe_error(exc))
    return dataclasses.replace(outcome, expdir=expdir)


def run_on_cluster(
    todo: list[Job],
    config: Any,
    force: bool,
    settings: dict[str, Any],
    scheduler: str,
    workers: int | None = None,
    note: Callable[[str], None] = log.info,
) -> Iterator[Outcome]:
    """Run each experiment as one task on a Dask cluster; yield outcomes as they finish.

    Parameters
    ----------
    todo : list of (expdir, output folder or None)
        From :func:`nmrilt.batch.plan` (finished experiments already left out).
    config, force, settings
        As for :func:`nmrilt.batch.attempt`.
    scheduler : str
        ``"local"`` or a scheduler address.
    workers : int, optional
        Worker processes of a ``"local"`` cluster.
    note : callable
        Receives one line describing the cluster once it is up.

    Yields
    ------
    Outcome
        One per experiment, in the order they finish, with ``expdir`` as given in ``todo``.

    Notes
    -----
    Closing the generator (or an exception such as ``KeyboardInterrupt`` while waiting)
    cancels the tasks not yet finished and closes the client and a local cluster.
    """
    distributed = _distributed()
    if not todo:
        return
    with connect(scheduler, workers) as client:
        note(describe_cluster(client))
        futures = {}
        for expdir, dest in todo:
            future = client.submit(
                attempt, _absolute(expdir), _absolute(dest), _absolute(config), force,
                settings, key=f"nmrilt-{expdir.name}-{len(futures)}-{os.urandom(4).hex()}",
            )
            futures[future] = expdir
        try:
            for future in distributed.as_completed(list(futures)):
                yield _collect(future, futures[future])
        finally:
            client.cancel(list(futures))


class Executor(Protocol):
    """Runs one function over many items; the results keep the order of the items.

    ``map(fn, items, **common)`` returns ``[fn(item, **common) for item in items]``.
    On a cluster ``fn`` must be importable by the workers (a function of nmrilt or of
    another installed module; those of the ``__main__`` script are sent by value), and it
    should be deterministic given its arguments: then the results are the same whichever
    executor runs it (bit for bit when the BLAS thread count is the same), e.g.
    ``ex.map(refit, seeds, problem=problem)`` with a ``numpy.random.default_rng(seed)``
    inside ``refit``.  ``common`` values are sent to each worker once (large arrays are
    fine there), not once per item.  The first exception raised by ``fn`` is raised by
    ``map``.  Use an executor as a context manager, or call ``close``.
    """

    def map(self, fn: Callable[..., T], items: Iterable[Any], **common: Any) -> list[T]:
        """``[fn(item, **common) for item in items]``."""

    def close(self) -> None:
        """Release the workers (nothing for the serial executor)."""


class SerialExecutor:
    """The executor of this process: a plain loop."""

    def map(self, fn: Callable[..., T], items: Iterable[Any], **common: Any) -> list[T]:
        """``[fn(item, **common) for item in items]``."""
        return [fn(item, **common) for item in items]

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProcessExecutor:
    """Worker processes on this machine (``concurrent.futures``; see :class:`Executor`).

    Parameters
    ----------
    workers : int, optional
        Processes (default: one per core).  They start once (``forkserver``: no copy of
        this process's BLAS threads) and each runs one task at a time, single-threaded.
    """

    def __init__(self, workers: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        n = workers or os.cpu_count() or 1
        #: Tasks running at once.
        self.parallelism = n
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=n, initializer=_single_threaded,
                                        mp_context=multiprocessing.get_context(method))

    def map(self, fn: Callable[..., T], items: Iterable[Any], **common: Any) -> list[T]:
        """``[fn(item, **common) for item in items]``, one task per item."""
        import functools

        return list(self.pool.map(functools.partial(fn, **common), list(items)))

    def close(self) -> None:
        """Stop the worker processes (cancelling what has not started)."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _single_threaded() -> None:
    """One BLAS thread per worker process: the processes are the parallelism."""
    from .solver.backend import _openblas_handles

    for setter, _ in _openblas_handles():
        setter(1)


class DaskExecutor:
    """The executor of a Dask cluster (see :class:`Executor`).

    Parameters
    ----------
    scheduler : str
        ``"local"`` or a scheduler address.
    workers : int, optional
        Worker processes of a ``"local"`` cluster.
    """

    def __init__(self, scheduler: str, workers: int | None = None) -> None:
        self._stack = contextlib.ExitStack()
        self.client = self._stack.enter_context(connect(scheduler, workers))
        #: Tasks running at once (the cluster's worker threads when it started).
        workers_info = self.client.scheduler_info().get("workers", {})
        self.parallelism = max(1, sum(w.get("nthreads", 1) for w in workers_info.values()))

    def map(self, fn: Callable[..., T], items: Iterable[Any], **common: Any) -> list[T]:
        """``[fn(item, **common) for item in items]``, one task per item."""
        items = list(items)
        shared = {k: self.client.scatter([v], broadcast=True, hash=False)[0]
                  for k, v in common.items()}
        futures = self.client.map(fn, items, pure=False, **shared)
        try:
            return self.client.gather(futures)
        finally:
            self.client.cancel(futures + list(shared.values()))

    def close(self) -> None:
        """Close the client (and a local cluster)."""
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def executor(scheduler: str | None = None, workers: int | None = None) -> Executor:
    """An :class:`Executor`: serial without ``scheduler``, else on that Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        ``None`` (this process, one item after the other), ``"processes"`` (worker
        processes of this machine, no Dask needed: :class:`ProcessExecutor`; serial inside
        a daemonic process such as a Dask worker, which cannot start any), ``"local"``
        (a Dask ``LocalCluster``) or a Dask scheduler address.
    workers : int, optional
        Worker processes of a ``"local"`` cluster.

    Examples
    --------
    >>> def square(x, offset=0):
    ...     return x * x + offset
    >>> with executor() as ex:
    ...     ex.map(square, range(4), offset=1)
    [1, 2, 5, 10]
    """
    if scheduler is None:
        if workers is not None:
            raise NmriltError("workers= needs scheduler='local' or 'processes'")
        return SerialExecutor()
    if scheduler == "processes":
        import multiprocessing

        # a daemonic process (a Dask worker running a batch task) may not start processes
        # of its own: there the items run one after the other
        if multiprocessing.current_process().daemon:
            return SerialExecutor()
        return ProcessExecutor(workers)
    return DaskExecutor(scheduler, workers)
