"""A Ctrl-C that Python cannot raise (it landed in a finaliser) still ends the run as such."""

from __future__ import annotations

import argparse
import gc
import sys

import pytest

from pixel_patrol_base.cli import entry as cli_main


class _RaisesOnDelete:
    def __del__(self) -> None:
        raise KeyboardInterrupt


def _handler_dropping_a_ctrl_c(args: argparse.Namespace) -> int:
    # What happens when SIGINT arrives while a finaliser runs: the KeyboardInterrupt
    # cannot propagate and goes to sys.unraisablehook instead.
    _RaisesOnDelete()
    gc.collect()
    return 0


def test_a_dropped_ctrl_c_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = cli_main.build_parser()
    original = parser.parse_args

    def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
        args = original(argv)
        args.handler = _handler_dropping_a_ctrl_c
        return args

    monkeypatch.setattr(parser, "parse_args", parse_args)
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    hook = sys.unraisablehook

    status = cli_main.main(["schema"])

    err = capsys.readouterr().err
    assert status == cli_main.EXIT_INTERRUPTED
    assert err.strip().splitlines() == ["pixel-patrol: interrupted"]
    assert "Traceback" not in err
    assert sys.unraisablehook is hook  # restored


def test_other_unraisable_errors_still_reach_the_default_hook() -> None:
    seen: list[BaseException] = []
    interrupts = cli_main._Interrupts()
    interrupts._default_hook = lambda info: seen.append(info.exc_value)

    class Info:
        exc_value = RuntimeError("boom")

    interrupts.unraisable(Info())
    assert [str(e) for e in seen] == ["boom"]
    assert not interrupts.received


def test_main_gives_the_root_logger_back_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Run in-process (a test, a notebook), `-v` must not leave its stderr handler or the
    # INFO level behind: a later library call would log through a closed stream.
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    assert cli_main.main(["-v", "schema"]) == 0
    capsys.readouterr()
    assert root.handlers == handlers
    assert root.level == level


def test_without_verbose_info_stays_off_stderr_whatever_a_library_logger_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The viewer and the in-process jobs set the library's logger to INFO for their log
    # files; the CLI's stderr still shows warnings only, unless -v.
    import logging

    library, root = logging.getLogger("pixel_patrol_base"), logging.getLogger()
    level, handlers, root_level = library.level, root.handlers[:], root.level
    library.setLevel(logging.INFO)
    try:
        handler = cli_main._setup_logging(verbose=False)
        logging.getLogger("pixel_patrol_base.api").info("processed something")
        logging.getLogger("pixel_patrol_base.api").warning("a warning")
        handler.flush()
    finally:
        library.setLevel(level)
        root.handlers[:] = handlers
        root.setLevel(root_level)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["pixel-patrol: warning: a warning"]
