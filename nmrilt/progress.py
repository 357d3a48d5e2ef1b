"""A small progress bar with an ETA, written to stderr.

>>> with Progress(total=100, desc="ILT", enabled=True) as bar:
...     for i in range(100):
...         bar.update(1, info="change 1.2e-3")

On a terminal the line is redrawn in place (at most every ``min_interval_s``); when
stderr is a file or pipe, a plain line is written at most every ``log_interval_s`` and
once at the end, so logs stay readable.  ``enabled=False`` silences it completely.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(s: float) -> str:
    """Seconds as ``12.3s``, ``m:ss`` or ``h:mm:ss``."""
    if s < 60:
        return f"{s:4.1f}s"
    m, s = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m:d}:{s:02d}"
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


class Progress:
    """Progress bar/line with elapsed time and estimated time left.

    Parameters
    ----------
    total : int
        Number of steps expected (an upper bound is fine; the ETA assumes all are run).
    desc : str
        Label printed before the bar.
    enabled : bool
        ``False`` prints nothing.
    stream : file-like, optional
        Where to write (default ``sys.stderr``).
    width : int
        Width of the bar in characters.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        enabled: bool = True,
        stream: TextIO | None = None,
        width: int = 24,
        min_interval_s: float = 0.1,
        log_interval_s: float = 5.0,
    ) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.count = 0
        self.info = ""
        self._t0 = time.perf_counter()
        self._last = -1e9
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = min_interval_s if self._tty else log_interval_s
        self._drawn = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def elapsed_s(self) -> float:
        """Seconds since the bar was created."""
        return time.perf_counter() - self._t0

    def line(self) -> str:
        """The current status line (without line ending)."""
        frac = min(self.count / self.total, 1.0)
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        el = self.elapsed_s
        eta = el / self.count * (self.total - self.count) if self.count else float("nan")
        eta_s = format_duration(eta) if self.count else "  ?  "
        head = f"{self.desc}: " if self.desc else ""
        tail = f" {self.info}" if self.info else ""
        return (
            f"{head}[{bar}] {self.count}/{self.total} {format_duration(el)} "
            f"ETA {eta_s}{tail}"
        )

    def update(self, n: int = 1, info: str = "") -> None:
        """Advance by ``n`` steps; ``info`` replaces the text after the ETA."""
        self.count += n
        if info:
            self.info = info
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._last = now
            self._draw()

    def _draw(self, final: bool = False) -> None:
        if self._tty:
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
        self._drawn = True

    def close(self, info: str = "") -> None:
        """Write the final line (once)."""
        if info:
            self.info = info
        if self.enabled and self.stream is not None:
            self._draw(final=True)
            self.enabled = False
