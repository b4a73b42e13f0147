"""Build (and lint) the static viewer's assets (``viewer/static/dist``), for wheel and checkout.

Used three ways:

- by hatchling, as the custom build hook of ``[tool.hatch.build.hooks.custom]``: a wheel
  build runs ``npm ci && npm run build`` when the assets are missing, so the wheel ships
  them (editable installs skip this; ``make viewer-assets`` builds them there);
- as a script, ``python hatch_build.py`` (what ``make viewer-assets`` runs: it builds when
  an output is missing or older than a source; ``--force`` rebuilds anyway);
- as ``python hatch_build.py --lint`` (a line of ``make lint``): biome checks the
  JavaScript (``viewer/static/biome.json``), installing the npm tree first when needed.

npm runs in ``build/static-viewer`` (a copy of ``viewer/static``'s package.json,
package-lock.json, build.mjs and src/), so ``node_modules`` never lands in the tree that
the wheel bundles; the tree is installed again only when the lock file changed. The build
also writes the browser tests' bundle (the product plus the ``window.__viewer`` test hook)
to ``build/static-viewer/test-dist``, outside ``dist``: the product never carries the hook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("viewer") / "static"
WORK = Path("build") / "static-viewer"
TEST_DIST = WORK / "test-dist"
LOCK_FILES = ("package.json", "package-lock.json")
BUILD_SOURCES = ("build.mjs", "src")
LINTED = ("src", "build.mjs", "test")
OUTPUTS = (
    "app.js",
    "app.js.gz",
    "boot.js",
    "style.css",
    "index.html",
    "manifest.json",
    "duckdb-worker.js.gz",
    "duckdb-eh.wasm.gz",
    "parquet.wasm.gz",
)
TEST_OUTPUTS = ("app.js", "app.js.gz")
"""What ``test-dist`` holds; the browser tests lay it over a copy of ``dist``."""


def assets_built(root: Path, with_tests: bool = False) -> bool:
    """Whether every built asset under ``root/viewer/static/dist`` is there and up to date.

    With ``with_tests``, the browser tests' bundle (``build/static-viewer/test-dist``) too.
    Up to date: no build source (``build.mjs``, ``src/``, the package files) is newer than
    the oldest output, so an edited source file is built again by ``make viewer-assets``.
    """
    dist = root / STATIC / "dist"
    outputs = [dist / name for name in OUTPUTS]
    if with_tests:
        outputs += [root / TEST_DIST / name for name in TEST_OUTPUTS]
    if not all(path.is_file() for path in outputs):
        return False
    return _newest_source(root / STATIC) <= min(path.stat().st_mtime for path in outputs)


def _newest_source(static: Path) -> float:
    """The latest modification time among the build's sources."""
    newest = 0.0
    for name in (*LOCK_FILES, *BUILD_SOURCES):
        path = static / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "building the static viewer needs Node.js and npm (https://nodejs.org); install "
            "them and run 'make viewer-assets'"
        )
    return npm


def _run(step: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(step, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"'{Path(step[0]).name} {' '.join(step[1:])}' failed for "
            f"the static viewer:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )


def npm_tree(root: Path) -> Path:
    """``build/static-viewer`` with ``node_modules`` installed for the current lock file.

    Raises:
        RuntimeError: when npm is missing or ``npm ci`` fails (its output is included).
    """
    static = root / STATIC
    work = root / WORK
    stamp = work / "node_modules" / ".pp-installed-lock.json"
    lock = (static / "package-lock.json").read_bytes()
    if stamp.is_file() and stamp.read_bytes() == lock:
        return work
    work.mkdir(parents=True, exist_ok=True)
    for name in LOCK_FILES:
        shutil.copy2(static / name, work / name)
    _run([_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"], work)
    stamp.write_bytes(lock)
    return work


def build_assets(root: Path, force: bool = False, with_tests: bool = True) -> Path:
    """Run ``npm ci && npm run build`` for ``root``'s static viewer; return the dist folder.

    Builds unless ``force`` is false and the assets (with ``with_tests``, the test bundle
    too) are there already; a build always writes both.

    Raises:
        RuntimeError: when npm is missing or a step fails (its output is included).
    """
    static = root / STATIC
    dist = static / "dist"
    if assets_built(root, with_tests=with_tests) and not force:
        return dist
    work = npm_tree(root)
    for name in (*LOCK_FILES, *BUILD_SOURCES):
        source, target = static / name, work / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    env = {
        **os.environ,
        "PP_STATIC_DIST": str(dist.resolve()),
        "PP_STATIC_TEST_DIST": str((root / TEST_DIST).resolve()),
    }
    _run([_npm(), "run", "build"], work, env)
    return dist


def lint(root: Path) -> None:
    """Check the JavaScript with biome (lint and format, no writes).

    Raises:
        RuntimeError: naming the findings, when biome reports any.
    """
    biome = npm_tree(root) / "node_modules" / ".bin" / "biome"
    _run([str(biome), "ci", "--colors=off", *LINTED], root / STATIC)


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Hatch hook: make sure a (non-editable) wheel ships the built static viewer."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the assets before the wheel's files are collected."""
        if self.target_name != "wheel" or version == "editable":
            return
        build_assets(Path(self.root), with_tests=False)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    if "--lint" in sys.argv[1:]:
        try:
            lint(here)
        except RuntimeError as exc:
            sys.exit(str(exc))
        print("static viewer JavaScript: biome found nothing")
    else:
        force = "--force" in sys.argv[1:]
        print(f"static viewer assets in {build_assets(here, force)}")
