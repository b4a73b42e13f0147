"""Locate the workflow, default config, profiles and viewer in both layouts.

In a source checkout they sit at the repository top level, beside the package. In an
installed wheel they are package data under ``pixel_patrol_base/_bundled/``. Nothing
else in the project hard-codes either location.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_NAMES = ("workflow", "config", "profiles", "viewer")


@cache
def data_root() -> Path:
    """Return the folder that holds ``workflow/``, ``config/``, ``profiles/`` and ``viewer/``.

    Returns:
        The bundled folder of an installed wheel, or the repository root of a checkout.

    Raises:
        FileNotFoundError: when neither layout is complete (a broken install).
    """
    for candidate in (_PACKAGE_DIR / "_bundled", _PACKAGE_DIR.parent):
        if all((candidate / name).is_dir() for name in _NAMES):
            return candidate
    raise FileNotFoundError(
        f"PixelPatrol's workflow files were not found next to {_PACKAGE_DIR}; "
        "reinstall the package (pip install --force-reinstall pixel-patrol)"
    )


def snakefile() -> Path:
    """Path of ``workflow/Snakefile``."""
    return data_root() / "workflow" / "Snakefile"


def default_config() -> Path:
    """Path of the default ``config/config.yaml``."""
    return data_root() / "config" / "config.yaml"


def profiles_dir() -> Path:
    """Folder holding the bundled Snakemake profiles (``local``, ``slurm``)."""
    return data_root() / "profiles"


def viewer_dir() -> Path:
    """Folder holding the Streamlit viewer."""
    return data_root() / "viewer"
