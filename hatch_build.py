"""Build the static viewer's assets (``viewer/static/dist``) for the wheel and the checkout.

Used two ways:

- by hatchling, as the custom build hook of ``[tool.hatch.build.hooks.custom]``: a wheel
  build runs ``npm ci && npm run build`` when the assets are missing, so the wheel ships
  them (editable installs skip this; ``make viewer-assets`` builds them there);
- as a script, ``python hatch_build.py`` (what ``make viewer-assets`` runs).

npm runs in a temporary copy of ``viewer/static`` (package.json, package-lock.json,
build.mjs, src/), so ``node_modules`` never lands in the tree that the wheel bundles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("viewer") / "static"
SOURCES = ("package.json", "package-lock.json", "build.mjs", "src")
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


def assets_built(root: Path) -> bool:
    """Whether every built asset is present under ``root/viewer/static/dist``."""
    dist = root / STATIC / "dist"
    return all((dist / name).is_file() for name in OUTPUTS)


def build_assets(root: Path, force: bool = False) -> Path:
    """Run ``npm ci && npm run build`` for ``root``'s static viewer; return the dist folder.

    Raises:
        RuntimeError: when npm is missing or a step fails (its output is included).
    """
    static = root / STATIC
    dist = static / "dist"
    if assets_built(root) and not force:
        return dist
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "building the static viewer needs Node.js and npm (https://nodejs.org); install "
            "them and run 'make viewer-assets'"
        )
    with tempfile.TemporaryDirectory(prefix="pp-static-") as tmp:
        work = Path(tmp)
        for name in SOURCES:
            source = static / name
            if source.is_dir():
                shutil.copytree(source, work / name)
            else:
                shutil.copy2(source, work / name)
        env = {**os.environ, "PP_STATIC_DIST": str(dist.resolve())}
        for step in (
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            [npm, "run", "build"],
        ):
            proc = subprocess.run(step, cwd=work, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(
                    f"'{' '.join(step[1:])}' failed for the static viewer:\n"
                    f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
                )
    return dist


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Hatch hook: make sure a (non-editable) wheel ships the built static viewer."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the assets before the wheel's files are collected."""
        if self.target_name != "wheel" or version == "editable":
            return
        build_assets(Path(self.root))


if __name__ == "__main__":
    force = "--force" in sys.argv[1:]
    print(f"static viewer assets in {build_assets(Path(__file__).resolve().parent, force)}")
