"""Extra per-component columns for ``peaks.csv``: a small registry of column providers.

Other modules (the exponential cross-check of :mod:`nmrilt.diagnostics`, the confidence
intervals of :mod:`nmrilt.uncertainty`) add columns to ``peaks.csv`` without the writer
knowing them: they register a *provider*, a function called with the result and the
listed components, returning one mapping of new columns per component::

    from nmrilt.output.columns import register_column_provider

    def t1_interval(result, rows):
        # rows[i]["_mask"]: boolean array, shape of result.g, the component's support
        return [{"T1_logmean_ci95_low_s": ..., "T1_logmean_ci95_high_s": ...} for r in rows]

    register_column_provider("uncertainty", t1_interval)

Providers run in registration order, after the built-in columns; a column name already
present is an error (no silent overwrite).  A provider that raises is logged and
skipped, so a failing add-on never costs the result files.  Column names should carry
their unit (``_s``, ``_m2_per_s``, ``_ppm``, ``_pct``, ``_au``) as the built-in ones do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..model import Result

log = logging.getLogger(__name__)

__all__ = [
    "ColumnProvider",
    "add_columns",
    "column_providers",
    "register_column_provider",
    "unregister_column_provider",
]

#: ``provider(result, rows) -> one mapping of new columns per row`` (same order as rows).
ColumnProvider = Callable[[Result, Sequence[Mapping[str, Any]]], Sequence[Mapping[str, Any]]]

_PROVIDERS: dict[str, ColumnProvider] = {}


def register_column_provider(name: str, provider: ColumnProvider) -> None:
    """Add ``provider`` under ``name`` (replacing an earlier one of that name)."""
    if not callable(provider):
        raise TypeError(f"column provider {name!r} is not callable")
    _PROVIDERS[name] = provider


def unregister_column_provider(name: str) -> None:
    """Remove the provider ``name`` (no error when absent)."""
    _PROVIDERS.pop(name, None)


def column_providers() -> dict[str, ColumnProvider]:
    """The registered providers, in registration order (a copy)."""
    return dict(_PROVIDERS)


def add_columns(
    result: Result,
    rows: list[dict[str, Any]],
    extra: Iterable[ColumnProvider] | Mapping[str, ColumnProvider] | None = None,
) -> list[str]:
    """Run the registered providers, then ``extra``, adding their columns to ``rows``.

    Parameters
    ----------
    result : Result
    rows : list of dict
        The listed components (:func:`nmrilt.output.components.components`), changed in
        place.
    extra : providers, optional
        Called after the registered ones (a mapping's keys name them in log messages).

    Returns
    -------
    list of str
        The names of the columns added, in order.
    """
    providers = list(_PROVIDERS.items())
    if isinstance(extra, Mapping):
        providers += list(extra.items())
    elif extra is not None:
        providers += [(getattr(p, "__name__", repr(p)), p) for p in extra]
    added: list[str] = []
    for name, provider in providers:
        try:
            new = list(provider(result, rows))
            if len(new) != len(rows):
                raise ValueError(f"returned {len(new)} rows for {len(rows)} components")
            clash = {k for cols in new for k in cols if k in rows[0] or k in added} if rows else set()
            if clash:
                raise ValueError(f"column(s) {sorted(clash)} already present")
        except Exception as exc:  # noqa: BLE001 - an add-on must not cost the result files
            log.warning("peaks.csv: column provider %s skipped: %s", name, exc)
            continue
        for row, cols in zip(rows, new):
            row.update(cols)
        for cols in new:
            added += [k for k in cols if k not in added]
    return added
