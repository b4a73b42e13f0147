"""The ``pixel-patrol`` command line: the parser, logging, and exit statuses.

Call graph::

    main(argv)
      ├─ build_parser()                one add_<command>_parser() per subcommand module
      ├─ _setup_logging(verbose)       library warnings -> stderr
      └─ args.handler(args)            one handler per subcommand
           ├─ process      -> cli.process.run_process   (api.process_files + ProgressBar)
           ├─ check        -> cli.check                 (QC rules on a report; data CI)
           ├─ duplicates   -> cli.duplicates            (duplicate sets of a report)
           ├─ schema       -> cli.schema                (the column catalog)
           ├─ verify       -> cli.verify                (a report against its checksums)
           ├─ view         -> cli.view                  (api.view)
           └─ build-viewer -> cli.build_viewer          (api.build_viewer)

The CLI is the only place that prints. Only the standard library is imported at module
level, so ``pixel-patrol --help`` answers at once; :mod:`pixel_patrol_base.api` and
anything heavy are imported inside the handlers. Exit statuses: 0 success, 1 a failed
run (:class:`~pixel_patrol_base.errors.PixelPatrolError`), 2 invalid input or usage
(:class:`~pixel_patrol_base.errors.InvalidInputError`, argparse), 130 interrupted.
To add a subcommand, write a module with ``add_<name>_parser(subparsers)`` that sets
``handler``, and call it in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pixel_patrol_base import __version__
from pixel_patrol_base.cli.build_viewer import add_build_viewer_parser
from pixel_patrol_base.cli.check import add_check_parser
from pixel_patrol_base.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    Handler,
)
from pixel_patrol_base.cli.duplicates import add_duplicates_parser
from pixel_patrol_base.cli.process import add_process_parser, option_names
from pixel_patrol_base.cli.schema import add_schema_parser
from pixel_patrol_base.cli.verify import add_verify_parser
from pixel_patrol_base.cli.view import add_view_parser
from pixel_patrol_base.errors import InvalidInputError, PixelPatrolError

if TYPE_CHECKING:
    from pixel_patrol_base.cli.progress import ProgressBar


def build_parser() -> argparse.ArgumentParser:
    """The ``pixel-patrol`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Quality control for microscopy and bioimage datasets.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show the library's progress messages"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_process_parser(subparsers)
    add_check_parser(subparsers)
    add_duplicates_parser(subparsers)
    add_schema_parser(subparsers)
    add_verify_parser(subparsers)
    add_view_parser(subparsers)
    add_build_viewer_parser(subparsers)
    for subparser in subparsers.choices.values():  # -v also after the subcommand
        subparser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="also show the library's progress messages",
        )
    return parser


# ---------------------------------------------------------------------------- output


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


class _BarAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes log records to stderr, erasing and redrawing the progress bar around them."""

    bar: ProgressBar | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bar is not None:
            self.bar.clear()
        super().emit(record)
        if self.bar is not None:
            self.bar.redraw()


def _setup_logging(verbose: bool) -> _BarAwareHandler:
    level = logging.INFO if verbose else logging.WARNING
    handler = _BarAwareHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    handler.setLevel(level)  # also when a library logger was set to INFO (a job, the viewer)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
    return handler


def _error_line(exc: BaseException) -> str:
    message = option_names(str(exc))
    return f"{PROG}: error: {message}"


class _Interrupts:
    """Ctrl-C: raises KeyboardInterrupt as Python does, and remembers that it came.

    Python raises KeyboardInterrupt in whatever the main thread runs at that instant; when
    that is an object's finaliser (or a lock release in ``logging``), the exception cannot
    propagate: Python hands it to ``sys.unraisablehook``, which prints a traceback, and the
    run would go on to exit 0. The flag makes such a run end as interrupted all the same,
    and :meth:`unraisable` keeps that traceback off the user's terminal.
    """

    def __init__(self) -> None:
        self.received = False
        self._default_hook = sys.unraisablehook

    def __call__(self, signum: int, frame: Any) -> None:
        self.received = True
        raise KeyboardInterrupt

    def unraisable(self, info: Any) -> None:
        """``sys.unraisablehook``: a dropped Ctrl-C is recorded, anything else printed."""
        if isinstance(info.exc_value, KeyboardInterrupt):
            self.received = True
            return
        self._default_hook(info)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    args.log_handler = _setup_logging(args.verbose)
    handler: Handler = args.handler
    interrupts = _Interrupts()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, interrupts) if main_thread else None
    previous_hook, sys.unraisablehook = sys.unraisablehook, interrupts.unraisable
    try:
        status = handler(args)
        if interrupts.received:
            raise KeyboardInterrupt
        return status
    except InvalidInputError as exc:
        print(_error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except PixelPatrolError as exc:
        print(_error_line(exc), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        sys.unraisablehook = previous_hook
        if main_thread:
            signal.signal(signal.SIGINT, previous)
        # main() may run inside a longer-lived process (a test, a notebook): give the
        # root logger back as it was, so this run's stderr handler does not outlive it.
        logging.captureWarnings(False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
