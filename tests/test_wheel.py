"""The built wheel works on its own: installed into a fresh venv outside the repository.

The module builds the wheel once (``python -m build --wheel --no-isolation``, reusing this
venv's hatchling), checks that it carries the workflow, config, profiles and viewer as
package data, installs it into a new venv in a temporary folder (uv, offline from its cache
when it can, else from the index), and runs the installed ``pixel-patrol`` with the
working directory outside the repository and no ``PYTHONPATH``, so nothing can silently
come from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
BUNDLED = "pixel_patrol_base/_bundled"
REQUIRED_IN_WHEEL = (
    f"{BUNDLED}/workflow/Snakefile",
    f"{BUNDLED}/config/config.yaml",
    f"{BUNDLED}/profiles/local/config.yaml",
)
BUNDLED_FOLDERS = ("workflow", "config", "profiles", "viewer")
TIMEOUT_S = 600

# Small dataset: nested folders, unique content, a space and unicode in names.
DATASET: dict[str, bytes] = {
    "a.txt": b"alpha",
    "control/b.csv": b"x,y\n1,2\n",
    "control/deep/c.bin": b"\x00\x01\x02",
    "treated/d e.txt": b"delta",
    "treated/\u00fcn\u00efc\u00f8d\u00e9.dat": b"\xff" * 7,
}


@dataclass(frozen=True)
class FreshVenv:
    """A venv with only the wheel (and its dependencies) installed."""

    root: Path
    wheel: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.root / "bin" / "pixel-patrol"


def _clean_env(venv_root: Path | None = None) -> dict[str, str]:
    """The environment without anything that could point Python at the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    }
    if venv_root is not None:
        env["VIRTUAL_ENV"] = str(venv_root)
        env["PATH"] = f"{venv_root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode == 0, (
        f"{what} failed (exit {proc.returncode})\n"
        f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
    )


def _build_wheel(outdir: Path) -> Path:
    proc = _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", outdir, REPO],
        cwd=outdir,
        env=_clean_env(),
    )
    _check(proc, "building the wheel")
    wheels = sorted(outdir.glob("pixel_patrol-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {outdir}, found {wheels}"
    return wheels[0]


def _install(wheel: Path, venv: Path, cwd: Path) -> None:
    env = _clean_env()
    uv = shutil.which("uv")
    if uv is None:  # plain venv + pip, from the index
        _check(_run([sys.executable, "-m", "venv", venv], cwd, env), "python -m venv")
        pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel]
        _check(_run(pip, cwd, env), "pip install of the wheel")
        return
    _check(_run([uv, "venv", "--quiet", "--python", sys.executable, venv], cwd, env), "uv venv")
    install = [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel]
    offline = _run([*install, "--offline"], cwd, env)  # warm cache: seconds, no network
    if offline.returncode != 0:
        _check(_run(install, cwd, env), "uv pip install of the wheel")


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(REPO), "the venv must live outside the repo"
    dist = base / "dist"
    dist.mkdir()
    wheel = _build_wheel(dist)
    venv = base / "venv"
    _install(wheel, venv, base)
    return FreshVenv(root=venv, wheel=wheel, env=_clean_env(venv))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel_data") / "data"
    for rel, content in DATASET.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return base


def _empty_dir(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir()
    return folder


def _check_report(output: Path) -> None:
    assert output.is_file(), f"no report at {output}"
    df = pl.read_parquet(output)
    files = df.filter(pl.col("obs_level") == 0)
    assert sorted(files["path"].to_list()) == sorted(DATASET)
    sizes = dict(zip(files["path"].to_list(), files["size_bytes"].to_list(), strict=True))
    assert sizes == {rel: len(content) for rel, content in DATASET.items()}


def test_wheel_carries_the_bundled_folders(fresh_venv: FreshVenv) -> None:
    with zipfile.ZipFile(fresh_venv.wheel) as whl:
        names = set(whl.namelist())
    missing = [n for n in REQUIRED_IN_WHEEL if n not in names]
    assert not missing, f"missing from the wheel: {missing}"
    for folder in BUNDLED_FOLDERS:
        assert any(n.startswith(f"{BUNDLED}/{folder}/") for n in names), (
            f"{BUNDLED}/{folder}/ is missing or empty in the wheel"
        )
    junk = sorted(n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo")))
    assert not junk, f"compiled files in the wheel: {junk[:5]}"


def test_installed_package_finds_its_bundled_data(fresh_venv: FreshVenv, tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import json, sysconfig
        import pixel_patrol_base
        from pixel_patrol_base import resources
        print(json.dumps({
            "package": pixel_patrol_base.__file__,
            "purelib": sysconfig.get_paths()["purelib"],
            "data_root": str(resources.data_root()),
            "snakefile": str(resources.snakefile()),
            "config": str(resources.default_config()),
            "profiles": str(resources.profiles_dir()),
            "viewer": str(resources.viewer_dir()),
        }))
        """
    )
    cwd = _empty_dir(tmp_path, "cwd")
    proc = _run([fresh_venv.python, "-c", code], cwd, fresh_venv.env)
    _check(proc, "importing the installed package")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    purelib = Path(info["purelib"]).resolve()
    assert purelib.is_relative_to(fresh_venv.root.resolve())
    assert Path(info["package"]).resolve().is_relative_to(purelib)
    data_root = Path(info["data_root"]).resolve()
    assert data_root == purelib / "pixel_patrol_base" / "_bundled"
    assert not data_root.is_relative_to(REPO)
    for key in ("snakefile", "config", "profiles", "viewer"):
        path = Path(info[key])
        assert path.exists(), f"{key}: {path} does not exist"
        assert path.resolve().is_relative_to(data_root), f"{key}: {path} is outside _bundled"


@pytest.fixture(scope="module")
def api_run(
    fresh_venv: FreshVenv, dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """One ``api.process_files`` run in the fresh venv: (cwd, output, process)."""
    base = tmp_path_factory.mktemp("wheel_api")
    cwd = _empty_dir(base, "cwd")
    output = base / "out" / "report.parquet"
    code = textwrap.dedent(
        f"""
        from pixel_patrol_base import api
        project = api.create_project("wheel-api", {str(dataset)!r}, output_path={str(output)!r})
        api.process_files(project, processors_included=set())
        """
    )
    output.parent.mkdir()
    return cwd, output, _run([fresh_venv.python, "-c", code], cwd, fresh_venv.env)


def test_installed_api_runs_the_bundled_workflow(
    api_run: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    _, output, proc = api_run
    _check(proc, "api.process_files in the fresh venv")
    _check_report(output)


def test_installed_run_writes_nothing_to_the_working_directory(
    api_run: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, _, proc = api_run
    _check(proc, "api.process_files in the fresh venv")
    left = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*"))
    assert not left, f"the run wrote into the caller's working directory: {left}"


def test_installed_cli_processes_a_folder(
    fresh_venv: FreshVenv, dataset: Path, tmp_path: Path
) -> None:
    assert fresh_venv.cli.is_file(), "the wheel installed no pixel-patrol script"
    cwd = _empty_dir(tmp_path, "cwd")
    output = tmp_path / "out" / "cli.parquet"
    command = [fresh_venv.cli, "process", dataset, "-o", output, "-l", "none"]
    proc = _run(command, cwd, fresh_venv.env)
    _check(proc, "pixel-patrol process in the fresh venv")
    _check_report(output)
