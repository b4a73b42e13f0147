"""The real Streamlit viewer under attack: hostile report text, crafted URLs, signals.

- A report whose name, flavor, description and file names hold Markdown and HTML that
  would fetch from another host is shown as text, in real headless Chromium, with any
  request that is not for 127.0.0.1 failing the test.
- Each crafted bookmark URL renders the page (sidebar included) with a notice naming
  the parameter, and no traceback or server path reaches the DOM.
- ``pixel-patrol view`` and ``api.view`` stop on a SIGINT sent to their process alone
  (as Jupyter's interrupt does) and on SIGTERM, stop their Streamlit child, and a
  viewer starts on the same port at once.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port, keep_local
from PIL import Image

NAME = "Evil **name** ![n](https://other.example/name.png) <img src=https://other.example/i.png>"
FLAVOR = "![t](https://other.example/t.png) :red[x] <script>window.__pp_hacked=1</script>"
DESCRIPTION = (
    "[click](https://other.example/d) ![d](https://other.example/d.png)\n"
    '<img src=x onerror="window.__pp_hacked=1"> $x^2$ :material/home:'
)
FILE_NAMES = (
    "<img src=x onerror=window.__pp_hacked=1>.png",
    "![f](https:other.example) **b**.png",
    "plain.png",
)
SIDEBAR = '[data-testid="stSidebar"]'

CRAFTED = [
    "filter=notjson",
    'filter=["size_bytes","gt","abc"]',
    'filter=["size_bytes","eq",[1,2]]',
    'filter=["size_bytes","in",5]',
    'filter=["size_bytes","gt",NaN]',
    'filter=["nope","eq",1]',
    'filter=["size_bytes","like",1]',
    'filter=["thumbnail","gt",1]',
    'filter=["modification_date","gt","abc"]',
    "filter=" + "[" * 3000,
    "dim=Q:1",
    "dim=Z:abc",
    "dim=Z:-1",
    "dim=Z:²",
    "dim=Z:99999999999999999999",
    "dim=Z:7",
    "ctl=image-table.limit=-1",
    "ctl=image-table.limit=1e309",
    "ctl=image-table.limit=abc",
    'ctl=custom-plot.x="nope"',
    "ctl=nowidget.x=1",
    "group=thumbnail",
    "group=<b>x</b>",
    "exclude=nope",
    "palette=nope",
    "sig=maybe",
    "mode=nope",
    "data=https://other.example/x.parquet",
    "![x](https://other.example/k.png)=1",
]
"""Crafted query strings (before URL-encoding): each must give a notice, no traceback."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Debian's chromium (tests/install_system_packages.sh)",
    ),
]


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report written by the real pipeline, with hostile name, flavor, description, files."""
    from pixel_patrol_base import api

    root = tmp_path_factory.mktemp("hostile")
    folder = root / "data" / "ctl"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in FILE_NAMES:
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(folder / name)
    project = api.create_project(
        NAME, root / "data", output_path=root / "out" / "r.parquet", loader="bioio"
    )
    project = api.add_paths(project, ["ctl"])
    api.process_files(project, flavor=FLAVOR, description=DESCRIPTION)
    return root / "out" / "r.parquet"


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )


def _read_until(process: subprocess.Popen[str], text: str, timeout_s: float) -> str:
    """The output of ``process`` up to and including the first chunk holding ``text``.

    Reads the pipe's file descriptor directly: ``select`` cannot see lines that a
    buffered ``readline`` has already pulled into Python's buffer.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline, seen = time.monotonic() + timeout_s, b""
    while time.monotonic() < deadline and text.encode() not in seen:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    out = seen.decode(errors="replace")
    assert text in out, out
    return out


def _wait_ready(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "the viewer never answered /_stcore/health"
            time.sleep(0.3)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _view_command(report: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pixel_patrol_base.cli",
        "view",
        str(report),
        "--no-browser",
        "--port",
        str(port),
    ]


@pytest.fixture(scope="module")
def viewer(hostile_report: Path) -> Iterator[str]:
    """``pixel-patrol view`` on the hostile report; yields its address."""
    port = free_port()
    process = _start(_view_command(hostile_report, port))
    try:
        _wait_ready(process, port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(process)


@pytest.fixture
def page(viewer: str) -> Iterator[tuple[object, list[str]]]:
    """A Chromium page on which any request not for 127.0.0.1 is recorded and aborted."""
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1800})
            keep_local(tab, external)
            yield tab, external
        finally:
            browser.close()


def test_hostile_report_text_is_shown_as_text(
    viewer: str, page: tuple[object, list[str]], hostile_report: Path
) -> None:
    tab, external = page
    tab.goto(viewer + "?mode=Full")  # type: ignore[attr-defined]
    tab.wait_for_selector('[data-testid="stVegaLiteChart"] svg', timeout=90_000)  # type: ignore[attr-defined]
    tab.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    title = tab.inner_text("h1")  # type: ignore[attr-defined]
    assert title.strip() == NAME
    body = tab.inner_text("body")  # type: ignore[attr-defined]
    assert FLAVOR in body
    for line in DESCRIPTION.splitlines():
        assert line in body
    html = tab.content()  # type: ignore[attr-defined]
    assert "other.example" not in "".join(
        tab.eval_on_selector_all("img, a, script", "els => els.map(e => e.src || e.href || '')")  # type: ignore[attr-defined]
    )
    assert "<script>window.__pp_hacked" not in html
    assert tab.evaluate("window.__pp_hacked") is None  # type: ignore[attr-defined]
    assert external == [], f"requests left the machine: {external}"


def test_each_crafted_url_renders_with_a_notice_and_no_traceback(
    viewer: str, page: tuple[object, list[str]], hostile_report: Path
) -> None:
    tab, external = page
    server_paths = (str(hostile_report.parent), str(Path(__file__).parents[2]), "site-packages")
    failures = []
    for query in CRAFTED:
        key, _, value = query.partition("=")
        url = viewer + "?" + urllib.parse.urlencode([(key, value), ("group", "file_extension")])
        tab.goto(url)  # type: ignore[attr-defined]
        notice = tab.get_by_text("ignored the bookmark parameter").first  # type: ignore[attr-defined]
        notice.wait_for(timeout=60_000)
        tab.locator(SIDEBAR).get_by_text("Group by").first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
        text = tab.inner_text("body")  # type: ignore[attr-defined]
        if f"ignored the bookmark parameter {key[:20]}" not in " ".join(text.split()):
            failures.append(f"{query}: the notice does not name the parameter")
        for bad in ("Traceback", 'File "', *server_paths):
            if bad in text:
                failures.append(f"{query}: {bad!r} in the page")
        if "file_extension" not in tab.url:  # type: ignore[attr-defined]
            failures.append(f"{query}: the valid group was not kept")
    assert failures == []
    assert external == [], f"requests left the machine: {external}"


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


API_SCRIPT = """
import sys
import polars as pl
from pixel_patrol_base import api
pl.DataFrame({"a": [1, 2]}).sum()  # polars installs its SIGINT handler (SA_RESTART)
api.view(sys.argv[1], port=int(sys.argv[2]), open_browser=False)
"""


@pytest.mark.parametrize("how", ["cli", "api"])
def test_sigint_to_the_process_stops_it_and_its_child_and_the_port_is_free(
    hostile_report: Path, how: str
) -> None:
    port = free_port()
    if how == "cli":
        command = _view_command(hostile_report, port)
    else:
        command = [sys.executable, "-c", API_SCRIPT, str(hostile_report), str(port)]
    process = _start(command)
    try:
        _wait_ready(process, port)
        for _ in range(3):  # connections the server closes linger in TIME_WAIT
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                assert response.status == 200
        children = _children(process.pid)
        assert children, "no Streamlit child found"
        os.kill(process.pid, signal.SIGINT)  # to this process only, as Jupyter does
        status = process.wait(timeout=60)
        assert status in ((130,) if how == "cli" else (-signal.SIGINT, 1)), status
        deadline = time.monotonic() + 30
        while not all(_gone(c) for c in children):
            assert time.monotonic() < deadline, "the Streamlit child outlived the viewer"
            time.sleep(0.2)
    finally:
        _stop(process)

    again = _start(_view_command(hostile_report, port))  # the same port, at once
    try:
        _wait_ready(again, port)
        assert again.stdout is not None
        # The CLI prints its "running at ... log: ..." line once it sees the server up,
        # a moment after /_stcore/health answers; a SIGTERM before it would skip the line.
        head = _read_until(again, "log: ", timeout_s=60)
        os.kill(again.pid, signal.SIGTERM)
        assert again.wait(timeout=60) == 130
        out = head + again.stdout.read()
        assert "already in use" not in out
    finally:
        _stop(again)
