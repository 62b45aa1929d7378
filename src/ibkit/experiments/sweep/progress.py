"""One live line for a whole sweep, the same for every backend."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class SweepProgress:
    """``[sweep] 3/10 done, 2 running, 1 failed, 1m20s elapsed, ~2m40s left``.

    On a terminal the line is redrawn in place; elsewhere (a log file, CI) a line is printed
    each time the counts change. The estimate of what is left is the mean time per finished
    point (elapsed / finished) times the points not yet finished.

    Args:
        total: the number of points to run.
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.done = self.failed = self.running = 0
        self._last: tuple[int, int, int] | None = None
        self._live = hasattr(self.stream, "isatty") and self.stream.isatty()

    def line(self) -> str:
        """The current line (without the ``\\r`` or newline)."""
        elapsed = time.monotonic() - self.start
        finished = self.done + self.failed
        left = (f", ~{_clock(elapsed / finished * (self.total - finished))} left"
                if 0 < finished < self.total else "")
        return (f"[sweep] {self.done}/{self.total} done, {self.running} running, "
                f"{self.failed} failed, {_clock(elapsed)} elapsed{left}")

    def update(self, done: int, running: int, failed: int) -> None:
        """Record the counts and redraw (on a terminal) or print when they changed."""
        self.done, self.running, self.failed = done, running, failed
        if self._live:
            self.stream.write("\r" + self.line() + "\033[K")
            self.stream.flush()
        elif (done, running, failed) != self._last:
            print(self.line(), file=self.stream, flush=True)
        self._last = (done, running, failed)

    def message(self, text: str) -> None:
        """Print ``text`` on its own line (a point that failed), keeping the live line below."""
        if self._live:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)
        if self._live and self._last is not None:
            self.update(*self._last)

    def close(self) -> None:
        """End the live line."""
        if self._live:
            self.stream.write("\n")
            self.stream.flush()
