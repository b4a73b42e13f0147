"""Every processing setting, declared once.

A :class:`Setting` names one keyword argument of
:func:`pixel_patrol_base.api.process_files` and says everything the rest of the package
needs to know about it: its type and default, the validator that checks it, its
command-line option, the config key it is written to, whether it enters the processing
fingerprint, and whether it is API-only or only steers the run. From :data:`SETTINGS`
come the validation (:mod:`.resolve`), the ``pixel-patrol process`` options
(:mod:`pixel_patrol_base.cli.process`), the written config
(:mod:`pixel_patrol_base.pipeline.run.config`) and the config schema (:mod:`.schema`);
tests check the ``process_files`` signature, ``config/config.yaml`` and
``workflow/schemas/config.schema.yaml`` against it.

To add a setting: add a :class:`Setting` here, add the keyword to ``process_files`` (its
signature and docstring; a test compares them) and a field to
:class:`~pixel_patrol_base.pipeline.run.config.RunConfig` when the jobs read it, then
regenerate the schema (``python -m pixel_patrol_base.settings.schema --write``).

Readers look the tuple up as ``declarations.SETTINGS`` when called, never bind it at
import, so a test can declare one more. Only the standard library is imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pixel_patrol_base.settings import checks, text
from pixel_patrol_base.table.catalog import ALL_AXES

DEFAULT_SLICE_SIZE = checks.DEFAULT_SLICE_SIZE
DEFAULT_MB_PER_TASK = 256.0
DEFAULT_MAX_IMAGES_PER_TASK = 40_000
DEFAULT_ROWS_PER_PART = 10_000
DEFAULT_ROW_GROUP_SIZE = 4_096
DEFAULT_THUMBNAIL_SIZE = 64
DEFAULT_PROFILE = "local"
BUILTIN_PROCESSORS = (
    "raster-basic",
    "raster-histogram",
    "raster-quality",
    "raster-compression",
    "raster-qc",
    "raster-hash",
    "thumbnail",
)
"""The processors this package registers, in the order ``config/config.yaml`` lists them."""

_SAME: Any = object()


@dataclass(frozen=True)
class CliOption:
    """How a setting appears on the ``pixel-patrol process`` command line."""

    flag: str
    metavar: str | None = None
    short: str | None = None
    action: Literal["store", "append", "store_true"] = "store"
    type: Callable[[str], Any] | None = None
    """Converts one argument (argparse ``type``), for ``store``."""
    parse: Callable[[Any], Any] | None = None
    """Turns the parsed argument(s) into the API value (``None``: given or not, as is)."""


@dataclass(frozen=True)
class Setting:
    """One processing setting: a keyword argument of ``process_files``."""

    name: str
    type: str
    """The annotation of the keyword in ``process_files``, as written there."""
    default: Any
    check: checks.Check
    """``check(value, name)``: the normalised value, or a ``SettingsError``."""
    help: str
    """The command-line help (argparse ``%(default)s`` allowed)."""
    doc: str
    """One line on what the config value means (the config schema's description)."""
    cli: CliOption | None = None
    config_key: str | None = None
    """The config key the setting is written to (``None``: not written as a key)."""
    folded_into: str | None = None
    """The config key that another setting writes and this one narrows."""
    schema: Mapping[str, Any] | None = None
    """JSON schema of the config value (default: the validator's own)."""
    config_value: Callable[[Mapping[str, Any]], Any] | None = None
    """Computes the config value from every normalised setting (default: this one's)."""
    config_default: Any = _SAME
    """Default of the config value, when it is not ``default`` itself."""
    fingerprint: bool = False
    """Whether a change changes the table's values (and so every shard id)."""
    footer: bool = True
    """Whether the report footer lists it under ``settings``."""
    api_only: bool = False
    """Only the API process uses it (neither the config nor the jobs)."""
    run_only: bool = False
    """It steers how the run is started, and is not part of the config."""

    @property
    def value_schema(self) -> dict[str, Any]:
        """The JSON schema of the config value, with its default and description."""
        schema = self.schema if self.schema is not None else getattr(self.check, "schema", None)
        if schema is None:
            raise TypeError(f"setting {self.name!r} declares no schema for its config value")
        return {**schema, "default": self.default_in_config, "description": self.doc}

    @property
    def default_in_config(self) -> Any:
        """The default of the config value."""
        if self.config_default is not _SAME:
            return self.config_default
        if self.config_value is not None:
            raise TypeError(f"setting {self.name!r} computes its config value: declare its default")
        return self.default


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "progress_callback",
        "ProgressCallback | None",
        None,
        checks.callback,
        help="",
        doc="Called as (done, total) with files done; total is -1 until the plan knows it.",
        api_only=True,
    ),
    Setting(
        "processors_included",
        "Iterable[str] | None",
        None,
        checks.processor_ids,
        help="processor ids to run, repeatable or comma-separated (default: all installed; "
        "'' runs none)",
        doc="Processor ids to run on every image.",
        cli=CliOption("--processors-include", "ID", action="append", parse=text.items),
        config_key="processors",
        schema={"type": "array", "items": {"type": "string"}},
        config_value=checks.processors_to_run,
        config_default=list(BUILTIN_PROCESSORS),
        fingerprint=True,
        footer=False,
    ),
    Setting(
        "processors_excluded",
        "Iterable[str] | None",
        None,
        checks.processor_ids,
        help="processor ids to leave out, repeatable or comma-separated",
        doc="Processor ids to leave out.",
        cli=CliOption("--processors-exclude", "ID", action="append", parse=text.items),
        folded_into="processors",
    ),
    Setting(
        "selected_file_extensions",
        "Iterable[str] | str | None",
        "all",
        checks.extensions,
        help="extensions to process, e.g. -e tif -e nd2 or -e tif,nd2 "
        "(default: all; with a loader, every extension it reads)",
        doc="Extensions to list (lower-case, no dot), or 'all' (with a loader, all it reads).",
        cli=CliOption(
            "--file-extensions", "EXT", short="-e", action="append", parse=text.extensions
        ),
        config_key="file_extensions",
        schema={
            "oneOf": [
                {"type": "string", "enum": ["all"]},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
        config_value=checks.extensions_to_config,
        config_default="all",
    ),
    Setting(
        "max_workers",
        "int | None",
        None,
        checks.Integer(minimum=1, nullable=True),
        help="parallel jobs (default: all CPUs)",
        doc="Parallel jobs on this machine; null = all CPUs.",
        cli=CliOption("--max-workers", "N", type=int),
        config_key="max_workers",
    ),
    Setting(
        "mb_per_task",
        "float",
        DEFAULT_MB_PER_TASK,
        checks.Number(above=0),
        help="memory budget of one task in MiB; larger images are read block by block "
        "(default: %(default)s)",
        doc="Budget in MiB of one task; larger images are processed block by block.",
        cli=CliOption("--mb-per-task", "MB", type=float),
        config_key="mb_per_task",
    ),
    Setting(
        "max_images_per_task",
        "int | None",
        None,
        checks.Integer(minimum=1, nullable=True),
        help="most files per shard, i.e. per job (default: "
        f"{DEFAULT_MAX_IMAGES_PER_TASK:,} with a loader; without one ('-l none'), shards "
        "are sized by file count alone, 50,000 files or more)",
        doc=f"Most files in one shard (one job); null = {DEFAULT_MAX_IMAGES_PER_TASK} with a "
        "loader, no bound without one (shards of file information are sized by work).",
        cli=CliOption("--max-images-per-task", "N", type=int),
        config_key="max_images_per_task",
    ),
    Setting(
        "slice_size",
        "Mapping[str, int] | None",
        None,
        checks.slice_size,
        help="leaf block size of one dimension (T, C, Z, Y, X, S, or a further axis "
        "such as H or E), repeatable, e.g. --slice-size Z=1 --slice-size Y=512; -1 is "
        "the full extent (default: 1 for every axis but Y, X = -1)",
        doc="Leaf block size per axis; -1 = the full extent.",
        cli=CliOption("--slice-size", "DIM=N", action="append", parse=text.slice_size),
        config_key="slice_size",
        schema={
            "type": "object",
            "propertyNames": {"enum": list(ALL_AXES)},
            "additionalProperties": {
                "type": "integer",
                "minimum": -1,
                "maximum": checks.MAX_INTEGER,
                "not": {"const": 0},
            },
        },
        config_default=dict(DEFAULT_SLICE_SIZE),
        fingerprint=True,
    ),
    Setting(
        "rows_per_part",
        "int",
        DEFAULT_ROWS_PER_PART,
        checks.Integer(minimum=1),
        help="rows a shard job buffers before writing (default: %(default)s)",
        doc="Rows a shard job buffers before writing them to its chunk (bounds job memory).",
        cli=CliOption("--rows-per-part", "N", type=int),
        config_key="rows_per_part",
    ),
    Setting(
        "parquet_row_group_size",
        "int",
        DEFAULT_ROW_GROUP_SIZE,
        checks.Integer(minimum=1),
        help="rows per row group of the report (default: %(default)s)",
        doc="Rows per row group of the report.",
        cli=CliOption("--parquet-row-group-size", "N", type=int),
        config_key="parquet_row_group_size",
    ),
    Setting(
        "flavor",
        "str",
        "",
        checks.Text(),
        help="free-text label of the report kind",
        doc="Free-text label of the report kind, shown in the viewer.",
        cli=CliOption("--flavor"),
        config_key="flavor",
        footer=False,
    ),
    Setting(
        "description",
        "str",
        "",
        checks.Text(),
        help="free-text description embedded in the report",
        doc="Free-text description, embedded in the report.",
        cli=CliOption("--description"),
        config_key="description",
        footer=False,
    ),
    Setting(
        "omit_base_dir",
        "bool",
        False,
        checks.Flag(),
        help="leave the absolute base folder out of the report",
        doc="Leave the absolute base_dir out of the report footer.",
        cli=CliOption("--omit-base-dir", action="store_true"),
        config_key="omit_base_dir",
        footer=False,
    ),
    Setting(
        "log_file",
        "str | Path | None",
        None,
        checks.file_path,
        help="also write the workflow log here (default: a logs/ folder next to the output)",
        doc="Also write the run's log here (default: the workdir's logs/).",
        cli=CliOption("--log-file", "FILE"),
        run_only=True,
    ),
    Setting(
        "profile",
        "str | Path",
        DEFAULT_PROFILE,
        checks.profile,
        help="Snakemake profile: a bundled name (local, slurm) or a profile folder "
        "(default: %(default)s)",
        doc="Snakemake profile: a bundled name (local, slurm) or a folder.",
        cli=CliOption("--profile", "PROFILE"),
        run_only=True,
    ),
    Setting(
        "scheduler",
        "str | None",
        None,
        checks.scheduler,
        help="Dask scheduler address for the shard jobs, e.g. tcp://host:8786",
        doc="Address of a Dask scheduler for the shard jobs' array work (e.g. tcp://host:8786).",
        cli=CliOption("--scheduler", "ADDRESS"),
        config_key="scheduler",
        schema={"type": ["string", "null"]},
    ),
    Setting(
        "clean",
        "bool",
        False,
        checks.Flag(),
        help="drop the work folder (shards, chunks, state) and start fresh",
        doc="Drop the workdir (shards, chunks, state) first and start fresh.",
        cli=CliOption("--clean", action="store_true"),
        api_only=True,
    ),
    Setting(
        "force",
        "bool",
        False,
        checks.Flag(),
        help="replace an existing PixelPatrol report of another dataset at OUT (a file that "
        "is not a PixelPatrol report is never replaced)",
        doc="Replace an existing PixelPatrol report of another dataset at the output path.",
        cli=CliOption("--force", action="store_true"),
        api_only=True,
    ),
    Setting(
        "thumbnail_size",
        "int",
        DEFAULT_THUMBNAIL_SIZE,
        checks.Integer(minimum=8, maximum=4096),
        help="longest side of thumbnails in pixels, 8 to 4096 (default: %(default)s)",
        doc="Longest side of thumbnails in pixels.",
        cli=CliOption("--thumbnail-size", "PX", type=int),
        config_key="thumbnail_size",
        fingerprint=True,
    ),
    Setting(
        "qc_group_by",
        "str | None",
        None,
        checks.qc_column,
        help="column whose values form the QC groups that group rules and outliers compare "
        "within (default: the added paths, imported_path_short, when --paths was given; "
        "else the top-level folder, top_folder, when files lie in sub-folders; else none)",
        doc="Column forming the QC groups; null = the added paths, else the top-level folder.",
        cli=CliOption("--qc-group-by", "COL"),
        config_key="qc_group_by",
        schema={"type": ["string", "null"]},
    ),
    Setting(
        "expectations",
        "str | Path | None",
        None,
        checks.rules_file,
        help="your QC rules file (YAML, see docs/rules.md), judged with the built-in rules "
        "after the merge; checked before any work; editing it reruns only the QC",
        doc="A QC rules file extending the built-in rules; null = the built-in rules alone.",
        cli=CliOption("--expect", "RULES.yaml"),
        config_key="expectations",
        schema={"type": ["string", "null"]},
    ),
    Setting(
        "follow_external_links",
        "bool",
        False,
        checks.Flag(),
        help="follow symlinks whose target lies outside BASE_DIR (default: such links are "
        "skipped, each with a warning, and counted in the report's footer)",
        doc="Follow symlinks whose target lies outside base_dir; false = skip them with a warning.",
        cli=CliOption("--follow-external-links", action="store_true"),
        config_key="follow_external_links",
    ),
)
"""Every setting, in the order of the ``process_files`` signature."""


def setting(name: str) -> Setting:
    """The declaration of ``name``.

    Raises:
        KeyError: for a name that is not a setting.
    """
    for declared in SETTINGS:
        if declared.name == name:
            return declared
    raise KeyError(name)


def config_settings() -> tuple[Setting, ...]:
    """The settings written to the config, one per config key, in declaration order."""
    return tuple(s for s in SETTINGS if s.config_key is not None)


def config_defaults() -> dict[str, Any]:
    """Default of every config key that a setting writes."""
    return {s.config_key: s.default_in_config for s in config_settings() if s.config_key}


def fingerprint_keys() -> tuple[str, ...]:
    """Config keys of the settings whose change changes results."""
    return tuple(s.config_key for s in config_settings() if s.fingerprint and s.config_key)


def footer_keys() -> tuple[str, ...]:
    """Config keys the report footer lists under ``settings``."""
    return tuple(s.config_key for s in config_settings() if s.footer and s.config_key)


def option_names() -> dict[str, str]:
    """Command-line flag of every setting that has one, by API name."""
    return {s.name: s.cli.flag for s in SETTINGS if s.cli is not None}
