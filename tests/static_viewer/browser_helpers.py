"""Helpers of the static-viewer tests: a real headless Chromium that may not reach out.

Every page gets a route handler that lets through only ``file:``, ``blob:``, ``data:`` and
the test's own 127.0.0.1 server; any other request is aborted and recorded, and
:meth:`GuardedPage.check` fails the test when one was tried. JavaScript dialogs (an
``alert`` from injected markup) are recorded the same way.

The ``window.__viewer`` hook these helpers read exists only in the test bundle
(:data:`TEST_BUNDLE`), never in the product's ``viewer/static/dist``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import http.server
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser_support import SCREENSHOTS

LOCAL_SCHEMES = ("file:", "blob:", "data:")
TEST_BUNDLE = Path(__file__).resolve().parents[2] / "build" / "static-viewer" / "test-dist"
"""Where ``make viewer-assets`` (hatch_build.py ``TEST_DIST``) writes the test bundle."""
TEST_BUNDLE_FILES = ("app.js", "app.js.gz")


@dataclass
class GuardedPage:
    """A page whose outside requests and dialogs are recorded (see the module docstring)."""

    page: Any
    left: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Fail when a request tried to leave, a dialog opened, or the page threw."""
        assert self.left == [], f"requests tried to leave the machine: {self.left}"
        assert self.dialogs == [], f"the page opened dialogs: {self.dialogs}"
        assert self.errors == [], f"uncaught page errors: {self.errors}"
        app_errors = self.page.evaluate("window.__viewer ? window.__viewer.app.errors : []")
        assert app_errors == [], app_errors


def open_guarded(browser: Any, allowed: tuple[str, ...] = ()) -> GuardedPage:
    """A new page in ``browser`` that may only load local URLs and ``allowed`` prefixes."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    guarded = GuardedPage(page)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(LOCAL_SCHEMES + allowed):
            request_route.continue_()
        else:
            guarded.left.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.context.route("**/*", route)

    def on_dialog(dialog: Any) -> None:
        guarded.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: guarded.errors.append(str(exc)))
    return guarded


def wait_rendered(page: Any, renders: int = 1) -> None:
    """Wait until the viewer finished ``renders`` full renders (every widget drawn)."""
    page.wait_for_function("window.__viewer !== undefined", timeout=120_000)
    page.evaluate("window.__viewer.ready")
    page.wait_for_function(
        f"Number(document.body.dataset.renders || 0) >= {renders}", timeout=120_000
    )


def page_widget_ids(page: Any) -> list[str]:
    """Ids of the widgets the page's current mode shows: the Issues page's in mode
    ``issues`` (the default), the report's in ``overview`` and ``full``."""
    from pixel_patrol_base.viewing.widgets import load_widgets

    name = "issues" if page.evaluate("window.__viewer.state.mode") == "issues" else "report"
    return [w.id for w in load_widgets().values() if w.page == name]


def widget_states(page: Any) -> dict[str, str]:
    """Widget id -> data-state (rendered, hidden, error) of the drawn widget cards."""
    states: dict[str, str] = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('section[data-widget]')]"
        ".map(e => [e.dataset.widget, e.dataset.state || 'pending']))"
    )
    return states


def _plain(value: Any) -> Any:
    """A Python DuckDB value as the page's ``__viewer.sql`` gives it."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp() * 1000
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp() * 1000
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return bool(a == b)


def _sort_key(row: dict[str, Any]) -> str:
    return repr(sorted((k, round(v, 6) if isinstance(v, float) else v) for k, v in row.items()))


def rows_match(python_rows: list[dict[str, Any]], browser_rows: list[dict[str, Any]]) -> bool:
    """Whether two results hold the same rows (as multisets; floats to 1e-9 relative)."""
    left = sorted((_plain(r) for r in python_rows), key=_sort_key)
    right = sorted(browser_rows, key=_sort_key)
    return len(left) == len(right) and all(_close(a, b) for a, b in zip(left, right, strict=True))


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as /tmp/viewer_screenshots/static_<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"static_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Served:
    """A folder served over HTTP on 127.0.0.1: its base URL and every path it was asked for."""

    url: str
    requested: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serve_folder(folder: Path, cors: bool = False) -> Iterator[Served]:
    """Serve ``folder`` with a real ``http.server`` on a free port of 127.0.0.1.

    ``cors`` adds ``Access-Control-Allow-Origin: *``, so pages of another origin (another
    port, or ``file://``) may read the files: the "other site" of the ``?data=`` tests.
    """
    served = Served("")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            if cors:
                self.send_header("Access-Control-Allow-Origin", "*")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Record the path instead of printing it."""
            served.requested.append(self.path)

    handler = functools.partial(Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page_notices(page: Any) -> list[str]:
    """The parameters the page's notice box names as ignored (``key=value`` each)."""
    names: list[str] = page.evaluate(
        "[...document.querySelectorAll('#pp-notices li code')].map(e => e.textContent)"
    )
    return names
