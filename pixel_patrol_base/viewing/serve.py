"""The library side of ``api.view``: check everything, then run the Streamlit app.

Call graph of :func:`view`::

    view(source, port, open_browser, **options)
      ├─ prepare_view                      nothing is started before all checks pass
      │    ├─ options.report_path          Project -> its report; path as given
      │    ├─ footer.read_metadata         missing / not Parquet / not a PixelPatrol table
      │    ├─ options.build_state          group, filters, dims, widget ids, palette
      │    └─ check_port                   port free on 127.0.0.1 (SO_REUSEADDR, as Tornado binds)
      └─ run_viewer                        python -m streamlit run viewer/app.py -- ...
           ├─ _stop_signals                SIGINT and SIGTERM raise KeyboardInterrupt
           ├─ wait_until_ready             GET /_stcore/health
           └─ webbrowser.open              unless open_browser is False

The app (``viewer/app.py``) receives the report path, the initial view state (the
URL query string of :meth:`ViewState.to_query_params`) and its log file after ``--``.

Stopping: SIGINT (Ctrl-C, ``kill -INT``, Jupyter's interrupt) and SIGTERM stop the
Streamlit child and end the call with KeyboardInterrupt. Python's handlers are
installed afresh for the wait, because importing polars replaces the C-level SIGINT
handler with one that restarts the wait, so a SIGINT sent to the process alone would
be lost.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pixel_patrol_base.errors import PortInUseError, ViewerStartError, ViewOptionError
from pixel_patrol_base.viewing.options import ViewOptions

if TYPE_CHECKING:
    from pixel_patrol_base.project import Project
    from pixel_patrol_base.viewing.widgets import ViewState

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8052
READY_TIMEOUT_S = 60.0

STREAMLIT_FLAGS: tuple[str, ...] = (
    "--server.headless=true",
    f"--server.address={HOST}",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
    "--server.runOnSave=false",
    "--client.toolbarMode=viewer",
    "--global.developmentMode=false",
    "--client.showErrorDetails=none",
)
"""Streamlit flags: local only, no telemetry, no file watching, no developer menus, and
no traceback in the browser (the app logs failures to its log file instead)."""


@dataclass(frozen=True)
class ViewLaunch:
    """Everything the viewer process needs, checked."""

    report: Path
    port: int
    state: ViewState
    log_file: Path | None = None
    """Where the app logs (tracebacks included); a fresh file made by :func:`run_viewer`."""

    @property
    def url(self) -> str:
        """Address of the viewer, with the initial state in the query string."""
        query = urlencode(self.state.to_query_params(), doseq=True)
        return f"http://{HOST}:{self.port}/" + (f"?{query}" if query else "")


def check_port(port: int) -> None:
    """Raise when ``port`` is not a free TCP port on 127.0.0.1.

    Raises:
        ViewOptionError: for a number outside 1..65535.
        PortInUseError: when something already listens there.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ViewOptionError(f"port {port!r} is not a TCP port; pass a number in 1..65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Tornado binds: a port whose last connections linger in TIME_WAIT (a viewer
        # stopped a moment ago) is free; one that something listens on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise PortInUseError(
                f"port {port} on {HOST} is already in use; pass another one (--port / port=)"
            ) from None


def prepare_view(
    source: Project | str | Path,
    options: ViewOptions | None = None,
    *,
    port: int = DEFAULT_PORT,
) -> ViewLaunch:
    """Check the report and every option; start nothing.

    Raises:
        NotAReportError: when the report is missing, not Parquet or not a PixelPatrol
            table (the missing columns are named).
        ViewOptionError: for an unknown group column, filter, dimension, widget or palette.
        PortInUseError: when ``port`` is taken.
    """
    from pixel_patrol_base.table.footer import read_metadata
    from pixel_patrol_base.viewing.options import (
        build_state,
        check_core_columns,
        report_columns,
        report_path,
    )

    path = report_path(source)
    if path.is_file():
        check_core_columns(path)
    read_metadata(path)
    state = build_state(report_columns(path), options or ViewOptions())
    check_port(port)
    return ViewLaunch(report=path.resolve(), port=port, state=state)


def streamlit_command(launch: ViewLaunch) -> list[str]:
    """The command line that runs the viewer app for ``launch``."""
    from pixel_patrol_base import resources

    query = urlencode(launch.state.to_query_params(), doseq=True)
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(resources.viewer_dir() / "app.py"),
        *STREAMLIT_FLAGS,
        f"--server.port={launch.port}",
        "--",
        "--report",
        str(launch.report),
        "--state",
        query,
        *(["--log", str(launch.log_file)] if launch.log_file is not None else []),
    ]


def wait_until_ready(
    process: subprocess.Popen[bytes], port: int, timeout: float = READY_TIMEOUT_S
) -> None:
    """Poll ``/_stcore/health`` until the app answers.

    Raises:
        ViewerStartError: when the process exits first or does not answer in time.
    """
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ViewerStartError(
                f"the viewer process exited with status {process.returncode} before it "
                "answered; run with -v and see the messages above"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise ViewerStartError(f"the viewer did not answer on {url} within {timeout:.0f} s")


def new_log_file() -> Path:
    """A fresh, empty log file for one viewer run (never an existing file)."""
    handle, name = tempfile.mkstemp(prefix="pixel-patrol-view-", suffix=".log")
    os.close(handle)
    return Path(name)


def run_viewer(
    launch: ViewLaunch,
    open_browser: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run Streamlit for ``launch`` until interrupted or until it exits.

    SIGINT (Ctrl-C, ``kill -INT``, Jupyter's interrupt) and SIGTERM stop the Streamlit
    child, then raise KeyboardInterrupt here.

    Args:
        launch: From :func:`prepare_view`; without a ``log_file`` one is made.
        open_browser: Open the viewer's address in the default web browser.
        on_ready: Called with the viewer's address once it answers (the CLI prints it).

    Raises:
        ViewerStartError: when Streamlit does not start or exits with an error.
        KeyboardInterrupt: re-raised after the child process has been stopped.
    """
    if launch.log_file is None:
        launch = replace(launch, log_file=new_log_file())
    command = streamlit_command(launch)
    log.info("starting the viewer: %s", " ".join(command))
    log.info("the viewer logs to %s", launch.log_file)
    with _stop_signals():
        _run_child(command, launch, open_browser, on_ready)


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt while the viewer runs (main thread only).

    Installing the handler also puts Python's C-level handler back in place, which
    importing polars replaces by one that makes ``waitpid`` restart (SA_RESTART), so
    that a SIGINT sent to this process alone, as Jupyter sends it, would never arrive.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the Streamlit child: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _run_child(
    command: list[str],
    launch: ViewLaunch,
    open_browser: bool,
    on_ready: Callable[[str], None] | None,
) -> None:
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        wait_until_ready(process, launch.port)
        log.info("viewer running at %s", launch.url)
        if on_ready is not None:
            on_ready(launch.url)
        if open_browser:
            import webbrowser

            webbrowser.open(launch.url)
        status = process.wait()
    except BaseException:
        _stop(process)
        raise
    if status != 0:
        raise ViewerStartError(f"the viewer process exited with status {status}")


def view(
    source: Project | str | Path,
    options: ViewOptions | None = None,
    *,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
) -> None:
    """Check the options, start the viewer and block until interrupted.

    See :func:`pixel_patrol_base.api.view` for the arguments.
    """
    launch = prepare_view(source, options, port=port)
    run_viewer(launch, open_browser=open_browser)
