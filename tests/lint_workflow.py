"""Run `snakemake --lint` on the workflow with a throw-away config (part of `make lint`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Lint the workflow; return Snakemake's exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        config = Path(tmp) / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "project_name": "lint",
                    "base_dir": str(data),
                    "output": f"{tmp}/out.parquet",
                }
            )
        )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "-s",
                str(ROOT / "workflow" / "Snakefile"),
                "--configfile",
                str(config),
                "--lint",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    print(result.stdout + result.stderr if result.returncode else "snakemake --lint: clean")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
