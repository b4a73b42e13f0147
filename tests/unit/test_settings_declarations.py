"""The setting declarations, and everything that is built from them or checked against them.

``pixel_patrol_base.settings.declarations.SETTINGS`` declares each processing setting
once. These tests hold the ``process_files`` signature, the ``process`` options, the
written config, ``config/config.yaml``, the config schema and the workflow's conda env
to it, and show that one more declared setting reaches all of them.
"""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pixel_patrol_base import __version__, api, resources
from pixel_patrol_base.cli import build_parser
from pixel_patrol_base.cli.process import option_names, setting_arguments
from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.pipeline.run.config import RunConfig, build_config, config_keys
from pixel_patrol_base.settings import declarations, resolve_settings
from pixel_patrol_base.settings.checks import Integer, Number
from pixel_patrol_base.settings.declarations import CliOption, Setting
from pixel_patrol_base.settings.schema import config_schema, schema_drift

SCHEMA_FILE = resources.data_root() / "workflow" / "schemas" / "config.schema.yaml"
DUMMY = Setting(
    "dummy_level",
    "int",
    3,
    Integer(minimum=1),
    help="a dummy level that only this test declares (default: %(default)s)",
    doc="A dummy level that only the test declares.",
    cli=CliOption("--dummy-level", "LEVEL", type=int),
    config_key="dummy_level",
)


def _schema_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SCHEMA_FILE.read_text("utf-8"))
    return loaded


def _process_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    process: argparse.ArgumentParser = subparsers.choices["process"]  # type: ignore[index]
    return process


@pytest.fixture
def dummy_setting(monkeypatch: pytest.MonkeyPatch) -> Setting:
    """One more setting declared, for the duration of a test."""
    monkeypatch.setattr(declarations, "SETTINGS", (*declarations.SETTINGS, DUMMY))
    return DUMMY


@pytest.fixture
def project(tmp_path: Path) -> Iterator[api.Project]:
    base = tmp_path / "data"
    base.mkdir()
    yield api.create_project("p", base, output_path=tmp_path / "out" / "r.parquet")


# ---------------------------------------------------------------------------- the API


def test_process_files_signature_is_the_declarations() -> None:
    parameters = list(inspect.signature(api.process_files).parameters.values())
    assert parameters[0].name == "project"
    keywords = parameters[1:]
    assert [p.name for p in keywords] == [s.name for s in declarations.SETTINGS]
    for parameter, setting in zip(keywords, declarations.SETTINGS, strict=True):
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, setting.name
        assert parameter.default == setting.default, setting.name
        assert type(parameter.default) is type(setting.default), setting.name
        assert parameter.annotation == setting.type, setting.name


def test_process_files_docstring_documents_every_setting() -> None:
    doc = inspect.getdoc(api.process_files) or ""
    args = doc.split("Args:")[1].split("Returns:")[0]
    documented = {line.split(":")[0].strip() for line in args.splitlines() if ": " in line}
    assert {s.name for s in declarations.SETTINGS} <= documented


def test_every_setting_has_exactly_one_home() -> None:
    config_keys_written = [s.config_key for s in declarations.SETTINGS if s.config_key]
    assert len(config_keys_written) == len(set(config_keys_written))
    for setting in declarations.SETTINGS:
        homes = [
            setting.config_key is not None,
            setting.folded_into is not None,
            setting.api_only,
            setting.run_only,
        ]
        assert sum(homes) == 1, setting.name
        if setting.folded_into is not None:
            assert setting.folded_into in config_keys_written, setting.name
    flags = [s.cli.flag for s in declarations.SETTINGS if s.cli is not None]
    assert len(flags) == len(set(flags))


def test_defaults_pass_their_own_validation_and_give_the_config_defaults() -> None:
    config = resolve_settings().to_config()
    defaults = declarations.config_defaults()
    assert set(config) == set(defaults)
    for key, value in defaults.items():
        if key == "processors":  # default: all installed, here the built-in ones
            assert sorted(config[key]) == sorted(value)
        else:
            assert config[key] == value, key


@pytest.mark.parametrize(
    "setting",
    [s for s in declarations.SETTINGS if isinstance(s.check, Integer | Number)],
    ids=lambda s: s.name,
)
def test_validator_and_schema_share_the_bound(setting: Setting) -> None:
    """The API and a hand-written config refuse the same values."""
    check = setting.check
    assert isinstance(check, Integer | Number)
    low, ok = (check.minimum - 1, check.minimum) if isinstance(check, Integer) else (0, 0.5)
    validator = jsonschema.Draft202012Validator(setting.value_schema)
    with pytest.raises(SettingsError, match=setting.name):
        resolve_settings(**{setting.name: low})
    assert not validator.is_valid(low)
    resolve_settings(**{setting.name: ok})
    assert validator.is_valid(ok)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(SettingsError, match="'mb_per_tsak'"):
        resolve_settings(mb_per_tsak=12)


# ---------------------------------------------------------------------------- the CLI


def test_cli_options_are_the_declarations() -> None:
    actions = {a.dest: a for a in _process_parser()._actions}
    for setting in declarations.SETTINGS:
        if setting.cli is None:
            assert setting.name not in actions
            continue
        action = actions[setting.name]
        assert setting.cli.flag in action.option_strings
        assert action.help == setting.help
        if setting.cli.short:
            assert setting.cli.short in action.option_strings
        if setting.cli.action == "store":
            assert action.default == setting.default, setting.name


def test_cli_without_options_passes_the_api_defaults(tmp_path: Path) -> None:
    args = _process_parser().parse_args([str(tmp_path), "-o", str(tmp_path / "r.parquet")])
    given = setting_arguments(args)
    assert resolve_settings(**given).to_config() == resolve_settings().to_config()


def test_option_names_name_every_flag() -> None:
    for setting in declarations.SETTINGS:
        if setting.cli is not None:
            message = f"{setting.name} must be something, got 0"
            assert option_names(message) == f"{setting.cli.flag} must be something, got 0"
    assert option_names("output_path 'x' is a folder") == "--output 'x' is a folder"
    assert option_names("max_workers_x is not replaced") == "max_workers_x is not replaced"


# ---------------------------------------------------------------------------- files


def test_schema_file_is_generated_from_the_declarations() -> None:
    assert schema_drift(_schema_file()) == []
    assert set(_schema_file()["properties"]) == set(config_keys())
    assert _schema_file()["additionalProperties"] is False


def test_config_yaml_defaults_are_the_declared_ones() -> None:
    shipped = yaml.safe_load(resources.default_config().read_text("utf-8"))
    defaults = declarations.config_defaults()
    assert shipped, "config/config.yaml is empty"
    for key, value in shipped.items():
        assert key in defaults, f"config/config.yaml sets {key!r}, which no setting declares"
        assert value == defaults[key], key


def test_builtin_processors_are_the_ones_the_package_registers() -> None:
    registered = {
        ep.name
        for ep in entry_points(group="pixel_patrol.processors")
        if ep.value.startswith("pixel_patrol_base.")
    }
    assert set(declarations.BUILTIN_PROCESSORS) == registered


def test_run_config_fields_are_the_config_keys(project: api.Project) -> None:
    config = build_config(project, resolve_settings(max_workers=3, slice_size={"z": 2}))
    assert list(config) == list(config_keys())
    run = RunConfig.from_mapping(config)
    assert run.to_mapping() == config
    assert run.max_workers == 3 and run.slice_size["Z"] == 2
    assert run.workdir == project.workdir


def test_workflow_env_pins_this_version() -> None:
    env = yaml.safe_load(
        (resources.data_root() / "workflow" / "envs" / "pixel-patrol.yaml").read_text("utf-8")
    )
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert f"pixel-patrol=={__version__}" in pip


# ---------------------------------------------------------------------------- one more


def test_a_declared_setting_reaches_cli_api_config_and_schema(
    dummy_setting: Setting, project: api.Project, capsys: pytest.CaptureFixture[str]
) -> None:
    process = _process_parser()
    with pytest.raises(SystemExit):
        process.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--dummy-level LEVEL" in help_text
    assert "a dummy level that only this test declares (default: 3)" in help_text
    args = process.parse_args(["data", "-o", "r.parquet", "--dummy-level", "5"])
    assert setting_arguments(args)["dummy_level"] == 5

    with pytest.raises(SettingsError) as info:
        resolve_settings(dummy_level=0)
    assert str(info.value) == "dummy_level must be an integer >= 1, got 0"
    assert option_names(str(info.value)).startswith("--dummy-level must be")

    assert build_config(project, resolve_settings(dummy_level=7))["dummy_level"] == 7
    assert build_config(project, resolve_settings())["dummy_level"] == 3
    assert "dummy_level" in config_keys()

    generated = config_schema()["properties"]["dummy_level"]
    assert generated == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
        "default": 3,
        "description": "A dummy level that only the test declares.",
    }
    assert "property 'dummy_level' is missing" in schema_drift(_schema_file())


def test_schema_check_reports_a_changed_default(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = tuple(
        Setting(**{**vars(s), "default": 128.0}) if s.name == "mb_per_task" else s
        for s in declarations.SETTINGS
    )
    monkeypatch.setattr(declarations, "SETTINGS", changed)
    (problem,) = schema_drift(_schema_file())
    assert problem.startswith("property 'mb_per_task'")


# ---------------------------------------------------------------------------- the workflow


def _list_rules(tmp_path: Path, extra: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Load the real workflow (config files merged and validated) and list its rules."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    config = tmp_path / "config.yaml"
    content = {"project_name": "p", "base_dir": str(data), "output": str(tmp_path / "r.parquet")}
    config.write_text(yaml.safe_dump({**content, **extra}), "utf-8")
    command = [sys.executable, "-m", "snakemake", "-s", str(resources.snakefile())]
    command += ["--configfile", str(config), "--list-rules"]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )


def test_workflow_refuses_a_config_key_with_a_typo(tmp_path: Path) -> None:
    good = _list_rules(tmp_path, {"mb_per_task": 12, "workdir": str(tmp_path / "w")})
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    assert "process_shard" in good.stdout
    typo = _list_rules(tmp_path, {"mb_per_tsak": 12})
    assert typo.returncode != 0
    assert "mb_per_tsak" in typo.stdout + typo.stderr
