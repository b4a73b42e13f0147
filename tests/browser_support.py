"""The headless browser every viewer test and benchmark drives: Debian's Chromium.

Playwright's own browser download cannot work here (no internet), so Playwright launches
``/usr/bin/chromium`` (installed by ``tests/install_system_packages.sh``) with these flags.
"""

from __future__ import annotations

import socket
from pathlib import Path

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
