"""Progress of long stages on a terminal: the edge's view of ``(stage, done, total)`` callbacks.

The core (``validation``, ``check``, ``release``) never prints: its long loops take an
optional ``progress`` callable and call it with the stage's name, how many items are done
and how many there are. The commands layer passes ``TerminalProgress`` when standard error
is a terminal, and nothing otherwise, so logs, pipes and CI output stay exactly as they were.

A stage shows nothing during its first ``delay`` seconds (short runs stay quiet), then one
line rewritten in place at most every ``interval`` seconds, closed with the stage's total
and duration when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

#: ``progress(stage, done, total)``: ``done`` of ``total`` items of ``stage`` are finished.
Progress = Callable[[str, int, int], None]

#: A stage shows progress only once it has run this long (seconds).
DELAY = 1.0
#: The line is redrawn at most this often (seconds).
INTERVAL = 0.1
_CLEAR = "\r\x1b[K"


class TerminalProgress:
    """Draws one status line per stage that lasts longer than ``delay`` seconds."""

    def __init__(self, stream: TextIO, *, delay: float | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.delay = DELAY if delay is None else delay
        self.interval = INTERVAL if interval is None else interval
        self.clock = clock
        self._stage: str | None = None
        self._started = 0.0
        self._drawn = -1.0  # when the line was last drawn; < 0 while nothing is shown

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self._stage:
            self.close()
            self._stage, self._started = stage, now
        if now - self._started < self.delay:
            return
        finished = done >= total
        if not finished and self._drawn >= 0 and now - self._drawn < self.interval:
            return
        percent = 100 * done // total if total else 100
        line = f"{_CLEAR}{stage}: {done}/{total} ({percent}%)"
        if finished:
            line += f" in {now - self._started:.1f} s\n"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = -1.0 if finished else now
        if finished:
            self._stage = None

    def close(self) -> None:
        """Clear a line left unfinished (a stage that stopped early)."""
        if self._drawn >= 0:
            self.stream.write(_CLEAR)
            self.stream.flush()
        self._drawn = -1.0
        self._stage = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


@contextmanager
def terminal_progress(stream: TextIO) -> Iterator[Progress | None]:
    """``TerminalProgress`` on ``stream`` when it is a terminal, else None (no output at all)."""
    if not _is_terminal(stream):
        yield None
        return
    progress = TerminalProgress(stream)
    try:
        yield progress
    finally:
        progress.close()
