"""Fixtures of the static-viewer tests: one real headless Chromium per module, test assets.

The product bundle (``viewer/static/dist``) has no test hook; ``make viewer-assets``
(``hatch_build.py``) also writes the test bundle, the same app plus ``window.__viewer``,
to ``build/static-viewer/test-dist``. :func:`hooked_assets` lays it over a copy of the
product assets, and :func:`with_test_hook` makes ``build_viewer`` use that copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import TEST_BUNDLE, TEST_BUNDLE_FILES
from browser_support import CHROMIUM, CHROMIUM_ARGS

from pixel_patrol_base.viewing import static as static_viewer


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One real headless Chromium per test module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; run 'bash tests/install_system_packages.sh chromium'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def hooked_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built assets whose app carries the ``window.__viewer`` test hook."""
    missing = [n for n in TEST_BUNDLE_FILES if not (TEST_BUNDLE / n).is_file()]
    if missing:
        pytest.fail(f"the test bundle is not built ({TEST_BUNDLE}); run 'make viewer-assets'")
    product = static_viewer.assets_dir()
    folder = tmp_path_factory.mktemp("hooked_assets")
    for path in product.iterdir():
        shutil.copy2(path, folder / path.name)
    for name in TEST_BUNDLE_FILES:
        shutil.copy2(TEST_BUNDLE / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def with_test_hook(hooked_assets: Path) -> Iterator[Path]:
    """``build_viewer`` writes pages from :func:`hooked_assets` while the module runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(static_viewer, "assets_dir", lambda: hooked_assets)
        yield hooked_assets
