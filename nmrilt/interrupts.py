"""Ctrl-C and SIGTERM as a remembered request, not only an exception.

The command line's handler raises ``KeyboardInterrupt`` at once (the usual way out) and
also records the request, because a library running in the main thread at that moment
(Dask's client machinery, under heavy load) can swallow the exception; long loops call
:func:`check` between units of work so the request is honoured at the next one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check", "handler", "reset"]

_requested = False


def handler(signum: int, frame: Any) -> None:
    """Signal handler: remember the request and raise ``KeyboardInterrupt``."""
    global _requested
    _requested = True
    raise KeyboardInterrupt


def check() -> None:
    """Raise ``KeyboardInterrupt`` if an interrupt was requested and not yet handled."""
    if _requested:
        raise KeyboardInterrupt


def reset() -> None:
    """Forget a handled request (the command line, once it has stopped)."""
    global _requested
    _requested = False
