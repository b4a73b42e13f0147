"""The headless browser every viewer test and benchmark drives: Debian's Chromium.

Playwright's own browser download cannot work here (no internet), so Playwright launches
``/usr/bin/chromium`` (installed by ``tests/install_system_packages.sh``) with these flags.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path("/tmp/viewer_screenshots")
"""Where the browser tests leave screenshots for a person to look at."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


COLOUR_GROUPS = ("zeta", "mid", "alpha")
"""The added paths of :func:`colour_report`, brightest first: the mosaic (by mean intensity,
descending) shows them in this order, the reverse of the sorted order charts use."""

LEGEND_COLOURS_JS = """els => els.map(svg => {
    const labels = [...svg.querySelectorAll('.role-legend-label text')].map(t => t.textContent);
    const marks = [...svg.querySelectorAll('.role-legend-symbol path')].map(p => {
        const fill = p.getAttribute('fill');
        return fill && fill !== 'transparent' && fill !== 'none' ? fill : p.getAttribute('stroke');
    });
    return Object.fromEntries(labels.map((l, i) => [l, marks[i]]));
}).filter(m => Object.keys(m).length)"""
"""Playwright ``eval_on_selector_all`` body over chart SVGs: per chart, legend label ->
symbol colour (charts without a legend left out)."""


_COLOUR_REPORT: list[Path] = []


def colour_report(root: Path) -> Path:
    """A small real report with the added paths :data:`COLOUR_GROUPS` (two PNGs each).

    Built once per test process, under the first ``root`` given (pytest keeps its temporary
    folders for the session); later calls return the same read-only report.
    """
    if _COLOUR_REPORT and _COLOUR_REPORT[0].is_file():
        return _COLOUR_REPORT[0]
    import numpy as np
    from PIL import Image

    from pixel_patrol_base import api

    data = root / "data"
    for level, group in zip((200, 120, 40), COLOUR_GROUPS, strict=True):
        (data / group).mkdir(parents=True)
        for i in range(2):
            pixels = np.full((16, 16), level - 5 * i, dtype=np.uint8)
            Image.fromarray(pixels).save(data / group / f"{group}_{i}.png")
    report = root / "report.parquet"
    project = api.create_project("colours", data, output_path=report, loader="bioio")
    project = api.add_paths(project, list(COLOUR_GROUPS))
    api.process_files(project, description="three groups for the colour tests")
    _COLOUR_REPORT[:] = [report]
    return report


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` or ``rgb(r, g, b)`` as a tuple."""
    text = colour.strip()
    if text.startswith("rgb"):
        r, g, b = (int(float(v)) for v in text[text.index("(") + 1 : -1].split(",")[:3])
        return r, g, b
    text = text.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
"""Requests a viewer may make; any other is recorded and aborted by :func:`keep_local`."""


def keep_local(page: Any, external: list[str]) -> None:
    """Route every request of the Playwright ``page``: local ones go on, any other is
    appended to ``external`` and aborted (a test then asserts ``external`` is empty)."""

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(LOCAL_PREFIXES):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    page.route("**/*", guard)


@contextlib.contextmanager
def streamlit_viewer(report: Path, *args: str) -> Iterator[str]:
    """``pixel-patrol view REPORT --no-browser`` (plus ``args``) on a free port; yields its
    address once ``/_stcore/health`` answers, and stops it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "view", str(report)]
    command += ["--no-browser", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the viewer never answered /_stcore/health"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def build_issues_report(root: Path) -> Path:
    """A small report with planted problems, made by the real pipeline (bioio loader).

    Three noise TIFFs, a constant one (``blank.tif``: issue ``constant``), an exact copy
    (``original.tif`` = ``copy.tif``: one ``exact`` duplicate set) and a corrupt file
    (``corrupt.tif``: a ``load_error``, issue ``unreadable``), judged also by a rules file
    (``rules.yaml`` beside the data: ``lab_dtype``, which every image passes, for the
    Issues page's "Rules checked"). Returns the Parquet path.
    """
    import numpy as np
    import tifffile

    from pixel_patrol_base import api

    data = root / "data"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        tifffile.imwrite(data / f"good_{i}.tif", rng.integers(0, 4000, (64, 64), dtype=np.uint16))
    tifffile.imwrite(data / "blank.tif", np.full((64, 64), 7, dtype=np.uint16))
    pixels = rng.integers(0, 4000, (64, 64), dtype=np.uint16)
    tifffile.imwrite(data / "original.tif", pixels)
    tifffile.imwrite(data / "copy.tif", pixels)
    (data / "corrupt.tif").write_bytes(b"II*\x00not a tiff at all")
    rules = root / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - id: lab_dtype\n    fail: dtype not in {uint16}\n"
        '    message: "dtype {dtype}"\n',
        encoding="utf-8",
    )
    report = root / "report.parquet"
    project = api.create_project("issues", data, output_path=report, loader="bioio")
    api.process_files(
        project, description="Planted problems for the Issues page tests", expectations=rules
    )
    return report


def build_image_report(root: Path) -> Path:
    """A small report for the single-image view, made by the real pipeline (bioio loader).

    ``stack.tif``: an ImageJ hyperstack of 4 Z planes x 2 channels (uint16 noise) whose
    plane z=2 is the constant 7 (issue ``constant_plane`` on its Z=2 slices), written from
    :func:`image_stack`; ``flat_0.tif``, ``flat_1.tif``: single 2D planes. Returns the
    Parquet path; the files stay under ``root / "data"``.
    """
    import numpy as np
    import tifffile

    from pixel_patrol_base import api

    data = root / "data"
    data.mkdir(parents=True)
    tifffile.imwrite(data / "stack.tif", image_stack(), imagej=True, metadata={"axes": "ZCYX"})
    rng = np.random.default_rng(1)
    for i in range(2):
        tifffile.imwrite(data / f"flat_{i}.tif", rng.integers(0, 4000, (64, 64), dtype=np.uint16))
    report = root / "report.parquet"
    project = api.create_project("image view", data, output_path=report, loader="bioio")
    api.process_files(project, description="A stack with a blank plane, for the image view")
    return report


def image_stack() -> Any:
    """The pixels of ``stack.tif`` (Z, C, Y, X), for values computed with plain numpy."""
    import numpy as np

    rng = np.random.default_rng(0)
    stack = rng.integers(0, 4000, (4, 2, 64, 64), dtype=np.uint16)
    stack[2] = 7
    return stack
