"""A small terminal progress bar for the CLI, fed by ``progress_callback(done, total)``.

On a terminal the bar is redrawn in place with ``\\r``; ``total == -1`` (the plan is not
known yet) shows a spinner, and the files listed so far once the plan job reports them
(:meth:`ProgressBar.listing`: "listing files: 412,000 found"). When the stream is not
a terminal (a log file, CI) a plain line is printed at most every ``interval`` seconds,
and once more when the run reaches 100 %. Only the standard library is used; the library
itself never prints, so this module is used by :mod:`pixel_patrol_base.cli.process` only.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

SPINNER = "|/-\\"
TTY_REDRAW_S = 0.1
PLAIN_INTERVAL_S = 2.0
BAR_WIDTH = 30


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d} h"


class ProgressBar:
    """Shows the progress of a run on ``stream``; call it as ``bar(done, total)``.

    Args:
        stream: Where to draw (the CLI passes ``sys.stderr``).
        label: Prefix of every line, e.g. ``"pixel-patrol"``.
        is_tty: Redraw in place; defaults to ``stream.isatty()``.
        interval: Least seconds between two plain (non-terminal) lines.
        clock: Monotonic clock in seconds (replaceable in tests).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        label: str = "pixel-patrol",
        is_tty: bool | None = None,
        interval: float = PLAIN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._tty = stream.isatty() if is_tty is None else is_tty
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_draw: float | None = None
        self._last_state: tuple[int, int] | None = None
        self._last_found: int | None = None
        self._state = (0, -1)
        self._ticks = 0
        self._drawn_width = 0
        self._closed = False
        self._found: int | None = None

    def listing(self, found: int) -> None:
        """Record the files listed so far, while the plan is not known yet."""
        if self._found != found and self._state[1] < 0:
            self._found = found
            self(*self._state)

    def __call__(self, done: int, total: int) -> None:
        """Record progress and redraw when due."""
        if self._closed:
            return
        self._state = (done, total)
        now = self._clock()
        finished = total >= 0 and done >= total
        if self._tty:
            if finished or self._last_draw is None or now - self._last_draw >= TTY_REDRAW_S:
                self._draw_tty(now)
                self._ticks += 1
            return
        if self._state == self._last_state and self._found == self._last_found:
            return
        first_known = total >= 0 and (self._last_state is None or self._last_state[1] < 0)
        due = self._last_draw is None or now - self._last_draw >= self._interval
        if finished or first_known or due:
            self._write_plain(now)

    def _text(self, now: float) -> str:
        done, total = self._state
        elapsed = _format_seconds(now - self._started)
        if total < 0:
            spinner = f"{SPINNER[self._ticks % len(SPINNER)]} " if self._tty else ""
            if self._found is not None:
                return f"{spinner}listing files: {self._found:,} found, {elapsed}"
            return f"{spinner}planning... {elapsed}"
        if total == 0:
            return f"no files to process, {elapsed}"
        fraction = min(done / total, 1.0)
        text = f"{fraction:4.0%} {done}/{total} files, {elapsed}"
        if 0 < done < total:
            remaining = (now - self._started) * (total - done) / done
            text += f", about {_format_seconds(remaining)} left"
        return text

    def _draw_tty(self, now: float) -> None:
        done, total = self._state
        text = self._text(now)
        columns = shutil.get_terminal_size((80, 24)).columns
        width = min(BAR_WIDTH, columns - len(self._label) - len(text) - 6)
        if total > 0 and width >= 10:
            filled = round(width * min(done / total, 1.0))
            text = f"[{'#' * filled}{'.' * (width - filled)}] {text}"
        line = f"{self._label}: {text}"[: max(columns - 1, 1)]
        padding = " " * max(self._drawn_width - len(line), 0)
        self._stream.write(f"\r{line}{padding}")
        self._stream.flush()
        self._drawn_width = len(line)
        self._last_draw = now

    def _write_plain(self, now: float) -> None:
        self._stream.write(f"{self._label}: {self._text(now)}\n")
        self._stream.flush()
        self._last_draw = now
        self._last_state = self._state
        self._last_found = self._found

    def clear(self) -> None:
        """Erase the bar from a terminal line (before something else is printed there)."""
        if self._tty and self._drawn_width:
            self._stream.write(f"\r{' ' * self._drawn_width}\r")
            self._stream.flush()
            self._drawn_width = 0

    def redraw(self) -> None:
        """Draw the bar again after :meth:`clear` (terminal only)."""
        if self._tty and not self._closed and self._last_draw is not None:
            self._draw_tty(self._clock())

    def close(self, *, completed: bool = True) -> None:
        """Finish the bar: show the final state once and end the line.

        Args:
            completed: Whether the run finished; otherwise the bar is erased on a
                terminal and no final line is printed.
        """
        if self._closed:
            return
        if not completed:
            self.clear()
        elif self._tty:
            if self._last_draw is not None:
                self._draw_tty(self._clock())
                self._stream.write("\n")
                self._stream.flush()
        elif self._last_state is not None and self._state != self._last_state:
            self._write_plain(self._clock())
        self._closed = True
