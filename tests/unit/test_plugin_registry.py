"""Plugins are registered explicitly: entry points name cheap metadata, the catalog asks.

Third-party packages are real distributions written into a temporary folder put on
``sys.path`` (``*.dist-info/entry_points.txt`` read by ``importlib.metadata``), not mocks.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytest

from pixel_patrol_base import plugins
from pixel_patrol_base.errors import PluginLoadError
from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.loaders.common import header_row
from pixel_patrol_base.pipeline.shard.chunks import rows_to_arrow
from pixel_patrol_base.plugins import contracts, testing
from pixel_patrol_base.plugins.contracts import ImageInfo
from pixel_patrol_base.table import catalog

IMPLEMENTATIONS = (
    "pixel_patrol_base.processors.basic",
    "pixel_patrol_base.processors.histogram",
    "pixel_patrol_base.processors.thumbnail",
    "pixel_patrol_base.processors.quality",
    "pixel_patrol_base.processors.compression",
    "pixel_patrol_base.processors._planes",
    "pixel_patrol_base.loaders.bioio",
    "pixel_patrol_base.loaders.bioio.loader",
    "pixel_patrol_base.loaders.tifffile_loader",
    "pixel_patrol_base.loaders.zarr_loader",
    "pixel_patrol_base.loaders.common",
    "pixel_patrol_base.loaders.lazy",
    "pixel_patrol_base.imaging",
)
"""Plugin implementation modules (and packages, with everything under them)."""
HEAVY = ("numpy", "numba", "bioio", "tifffile", "zarr", "dask", "polars", "pyarrow")


def probe(heavy: tuple[str, ...] = HEAVY) -> str:
    """Code defining ``is_heavy(module)``: a plugin implementation or one of ``heavy``."""
    return textwrap.dedent(
        f"""
        IMPLEMENTATIONS = {IMPLEMENTATIONS!r}
        HEAVY = {heavy!r}

        def is_heavy(module):
            inside = any(module == m or module.startswith(m + ".") for m in IMPLEMENTATIONS)
            return inside or module.split(".")[0] in HEAVY
        """
    )


DONE_WHEN = textwrap.dedent(
    """
    import json, sys
    from pixel_patrol_base.table import catalog
    cheap = sorted(c.name for c in catalog.all_columns())
    loaded = sorted(m for m in sys.modules if is_heavy(m))
    from pixel_patrol_base import plugins
    from pixel_patrol_base.loaders.common import EXTRA_COLUMNS
    objects = {c.name for c in catalog.CORE_COLUMNS} | {c.name for c in EXTRA_COLUMNS}
    for pid in plugins.processor_ids():
        objects |= {c.name for c in plugins.get_processor(pid).columns}
    for lid in plugins.loader_ids():
        plugins.get_loader(lid)
    after = sorted(c.name for c in catalog.all_columns())
    print(json.dumps({"cheap": cheap, "loaded": loaded, "objects": sorted(objects),
                      "after": after}))
    """
)


def test_the_catalog_is_complete_without_importing_any_plugin() -> None:
    code = probe() + DONE_WHEN
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["loaded"] == []
    assert found["cheap"] == found["after"] == found["objects"]
    assert {"mean_intensity", "thumbnail", "blocking_index", "format_reader"} <= set(found["cheap"])


def test_the_schema_command_imports_no_plugin() -> None:
    code = probe() + textwrap.dedent(
        """
        import sys
        sys.argv = ["pixel-patrol", "schema", "--format", "json"]
        from pixel_patrol_base.cli.entry import main
        code = main()
        print("\\nIMPORTED", [m for m in sys.modules if is_heavy(m)], file=sys.stderr)
        sys.exit(code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stderr
    names = {row["name"] for row in json.loads(result.stdout)}
    assert names == {c.name for c in catalog.all_columns()}


MERGE = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime
    from pathlib import Path
    import polars as pl
    import pyarrow.parquet as pq
    from pixel_patrol_base.pipeline.merge.combine import merge_chunks
    from pixel_patrol_base.pipeline.shard.chunks import ChunkInfo, write_chunk
    from pixel_patrol_base.table import catalog

    folder = Path(sys.argv[1])
    row = {n: [None] for n in catalog.core_column_names() if n != "imported_path_short"}
    row.update(path=["a.tif"], obs_level=[0], name=["a.tif"], parent=["."], depth=[0],
               file_extension=["tif"], size_bytes=[10], imported_path=["."], type=["file"],
               modification_date=[datetime(2024, 1, 1, tzinfo=UTC)],
               finite_pixel_count=[7], ringing_index=[1.5])
    chunk = folder / "s.parquet"
    write_chunk(pl.DataFrame(row, strict=False).cast({"finite_pixel_count": pl.Int32}), chunk,
                ChunkInfo("s", 1, 1, 0, 0.1, "2024-01-01T00:00:00+00:00"), rows_per_part=10)
    merge_chunks([chunk], folder / "r.parquet", labels={".": "all"}, metadata={},
                 row_group_size=10)
    schema = pq.read_schema(folder / "r.parquet")
    fields = {n: (str(schema.field(n).type), schema.field(n).metadata[b"description"].decode())
              for n in ("finite_pixel_count", "ringing_index")}
    print(json.dumps({"fields": fields, "loaded": sorted(m for m in sys.modules if is_heavy(m))}))
    """
)


def test_the_merge_types_plugin_columns_without_importing_the_plugins(tmp_path: Path) -> None:
    code = probe(heavy=("numba", "bioio", "tifffile", "zarr", "dask")) + MERGE
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["loaded"] == []
    for name, (arrow_type, description) in found["fields"].items():
        declared = catalog.lookup(name)
        assert declared is not None
        assert arrow_type == str(catalog.arrow_type(declared.type))
        assert description == declared.description


# ------------------------------------------------------------------ third-party packages

PROCESSOR_IMPL = """
from {package}.manifest import METADATA

class CountProcessor:
    id = METADATA.id
    version = METADATA.version
    columns = METADATA.columns
    halo = 0
    uses_overview = False

    def wants(self, leaf):
        return True

    def measure(self, leaf):
        counted = []

        def visit(tile):
            counted.append(int(tile.core_data().size))

        yield visit
        return sum(counted)

    def merge(self, states):
        return sum(states)

    def finalize(self, state):
        return {{"{prefix}_pixels": state}}

PROCESSOR = CountProcessor()
"""

MANIFEST = """
from pixel_patrol_base.plugins import ProcessorMetadata
from pixel_patrol_base.table.catalog import Aggregation, Column

METADATA = ProcessorMetadata(
    id="{prefix}-count",
    version="{version}",
    columns=(Column("{prefix}_pixels", "int32", "Pixels of the row, counted by a plugin.",
                    producer="{prefix}-count", aggregation=Aggregation.SUM),),
    target="{package}.impl:PROCESSOR",
)
"""

LEGACY = """
from pixel_patrol_base.table.catalog import Column

class Legacy:
    id = "{prefix}-legacy"
    version = "3"
    columns = (Column("{prefix}_legacy", "float64", "Declared on the object only.",
                      producer="{prefix}-legacy"),)
    halo = 0
    uses_overview = False

    def wants(self, leaf):
        return False

    def measure(self, leaf):
        yield lambda tile: None
        return None

    def merge(self, states):
        return None

    def finalize(self, state):
        return {{"{prefix}_legacy": None}}

PROCESSOR = Legacy()
"""

LOADER = """
from pixel_patrol_base.plugins import LoaderMetadata
from pixel_patrol_base.table.catalog import Column, Levels

METADATA = LoaderMetadata(
    id="{prefix}-loader",
    version="1",
    extensions=frozenset({{"{prefix}"}}),
    target="{package}.loader:LOADER",
    columns=(Column("{prefix}_gain", "float64", "Detector gain the file states.",
                    producer="{prefix}-loader", levels=Levels.IMAGE),),
)

class Loader:
    id = METADATA.id
    version = METADATA.version
    extensions = METADATA.extensions

    def read_header(self, path):
        return []

    def open_array(self, path, info):
        return None

LOADER = Loader()
"""


class ThirdParty:
    """A real third-party distribution on ``sys.path``, with unique module names."""

    def __init__(self, root: Path) -> None:
        self.prefix = "tp" + uuid.uuid4().hex[:8]
        self.package = f"{self.prefix}_plugin"
        self.root = root

    def write(self, entry_points: dict[str, dict[str, str]], files: dict[str, str]) -> None:
        package = self.root / self.package
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        for name, text in files.items():
            body = text.format(prefix=self.prefix, package=self.package, version="2")
            (package / f"{name}.py").write_text(body)
        info = self.root / f"{self.package}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {self.package}\nVersion: 0.1\n"
        )
        lines = []
        for group, entries in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{name} = {value}" for name, value in entries.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        plugins.refresh()

    def loaded(self) -> list[str]:
        return sorted(m for m in sys.modules if m.startswith(self.package))


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThirdParty]:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield ThirdParty(site)
    monkeypatch.undo()
    plugins.refresh()


def _processor_package(tp: ThirdParty, manifest: str = MANIFEST) -> None:
    tp.write(
        {
            "pixel_patrol.processors": {
                f"{tp.prefix}-count": f"{tp.package}.manifest:METADATA",
                f"{tp.prefix}-legacy": f"{tp.package}.legacy:PROCESSOR",
            },
            "pixel_patrol.loaders": {f"{tp.prefix}-loader": f"{tp.package}.loader:METADATA"},
        },
        {"manifest": manifest, "impl": PROCESSOR_IMPL, "legacy": LEGACY, "loader": LOADER},
    )


def test_third_party_metadata_is_read_without_importing_the_plugin(
    third_party: ThirdParty,
) -> None:
    tp = third_party
    _processor_package(tp)
    assert f"{tp.prefix}-count" in plugins.processor_ids()
    assert plugins.processor_metadata(f"{tp.prefix}-count").version == "2"
    declared = catalog.lookup(f"{tp.prefix}_pixels")
    assert declared is not None and declared.type == "int32"
    assert f"{tp.package}.impl" not in tp.loaded()  # the catalog read only the manifest
    processor = plugins.get_processor(f"{tp.prefix}-count")
    assert f"{tp.package}.impl" in tp.loaded()
    testing.check_installed_processor(f"{tp.prefix}-count")
    assert processor.columns[0] is declared


def test_third_party_processor_runs_and_its_column_gets_the_declared_type(
    third_party: ThirdParty,
) -> None:
    tp = third_party
    _processor_package(tp)
    processor = plugins.get_processor(f"{tp.prefix}-count")
    image = np.arange(2 * 4 * 5, dtype=np.uint16).reshape(2, 4, 5)
    info = ImageInfo(None, "ZYX", image.shape, "uint16")
    rows = process_image(image, info, [processor], slice_size={}, mb_per_task=64).rows
    assert [r[f"{tp.prefix}_pixels"] for r in rows] == [40, 20, 20]
    table = rows_to_arrow(rows)
    assert str(table.schema.field(f"{tp.prefix}_pixels").type) == "int32"  # not inferred int64


def test_an_entry_point_may_still_name_the_plugin_object(third_party: ThirdParty) -> None:
    tp = third_party
    _processor_package(tp)
    metadata = plugins.processor_metadata(f"{tp.prefix}-legacy")
    assert metadata.version == "3"
    assert metadata.target == f"{tp.package}.legacy:PROCESSOR"
    assert catalog.lookup(f"{tp.prefix}_legacy") is metadata.columns[0]
    assert plugins.get_processor(f"{tp.prefix}-legacy").columns == metadata.columns
    testing.check_installed_processor(f"{tp.prefix}-legacy")


def test_a_third_party_loader_declares_its_extra_columns(third_party: ThirdParty) -> None:
    tp = third_party
    _processor_package(tp)
    assert f"{tp.prefix}-loader" in plugins.loader_ids()
    assert plugins.loader_metadata(f"{tp.prefix}-loader").extensions == {tp.prefix}
    assert catalog.lookup(f"{tp.prefix}_gain") is not None
    info = ImageInfo(None, "YX", (2, 3), "uint8", extra={f"{tp.prefix}_gain": 1.5})
    assert header_row(info, 1)[f"{tp.prefix}_gain"] == 1.5
    testing.check_installed_loader(f"{tp.prefix}-loader")


def test_metadata_and_object_must_agree(third_party: ThirdParty) -> None:
    tp = third_party
    _processor_package(tp)
    # the manifest is rendered with version "2"; make the object claim another one
    impl = tp.root / tp.package / "impl.py"
    impl.write_text(impl.read_text().replace("version = METADATA.version", 'version = "9"'))
    with pytest.raises(PluginLoadError, match=r"declares version '2'.*has '9'"):
        plugins.get_processor(f"{tp.prefix}-count")
    with pytest.raises(AssertionError, match="version"):
        testing.check_installed_processor(f"{tp.prefix}-count")


def test_entry_point_name_and_id_must_agree(third_party: ThirdParty) -> None:
    tp = third_party
    tp.write(
        {"pixel_patrol.processors": {"other-name": f"{tp.package}.manifest:METADATA"}},
        {"manifest": MANIFEST},
    )
    with pytest.raises(PluginLoadError, match=r"'other-name'.*declares the id"):
        plugins.processor_metadata("other-name")


def test_a_broken_plugin_leaves_the_others_listed(
    third_party: ThirdParty, caplog: pytest.LogCaptureFixture
) -> None:
    tp = third_party
    tp.write(
        {"pixel_patrol.processors": {f"{tp.prefix}-broken": f"{tp.package}.missing:METADATA"}},
        {},
    )
    with caplog.at_level(logging.WARNING):
        names = {c.name for c in catalog.all_columns()}
    assert "mean_intensity" in names
    assert f"{tp.prefix}-broken" in caplog.text and "left out" in caplog.text
    with pytest.raises(PluginLoadError, match="cannot be imported"):
        plugins.get_processor(f"{tp.prefix}-broken")


def test_a_conflicting_column_keeps_the_first_declaration(
    third_party: ThirdParty, caplog: pytest.LogCaptureFixture
) -> None:
    tp = third_party
    clash = MANIFEST.replace('"{prefix}_pixels", "int32"', '"mean_intensity", "int32"')
    tp.write(
        {"pixel_patrol.processors": {f"{tp.prefix}-count": f"{tp.package}.manifest:METADATA"}},
        {"manifest": clash},
    )
    with caplog.at_level(logging.WARNING):
        declared = catalog.lookup("mean_intensity")
    assert declared is not None and declared.producer == "raster-basic"
    assert "mean_intensity" in caplog.text


def test_register_is_deprecated_and_changes_nothing() -> None:
    before = catalog.all_columns()
    column = catalog.Column("never_listed", "float64", "Registered the old way.")
    with pytest.warns(DeprecationWarning, match="metadata"):
        catalog.register([column])
    assert catalog.all_columns() == before
    assert catalog.lookup("never_listed") is None


# ---------------------------------------------------------- checks derived from Protocols


class _Extended(contracts.Processor, Protocol):
    budget: int

    def describe(self, verbose: bool) -> str: ...


def test_the_processor_check_demands_a_member_added_to_the_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    processor = plugins.get_processor("raster-basic")
    testing.check_processor(processor)
    monkeypatch.setattr(contracts, "Processor", _Extended)
    with pytest.raises(AssertionError, match="lacks the attribute 'budget'"):
        testing.check_processor(processor)
    monkeypatch.setattr(type(processor), "budget", 3, raising=False)
    with pytest.raises(AssertionError, match="lacks the method describe"):
        testing.check_processor(processor)


class _LoaderWithMore(contracts.Loader, Protocol):
    def read_labels(self, path: Path, info: ImageInfo, level: int = 0) -> Any: ...


class _Partial:
    id = "partial"
    version = "1"
    extensions = frozenset({"abc"})

    def read_header(self, path: Path) -> list[ImageInfo]:
        return []

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        return None

    def read_labels(self, path: Path, info: ImageInfo, level: int) -> Any:
        return None


def test_the_loader_check_compares_signatures_with_the_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    testing.check_loader(_Partial())
    monkeypatch.setattr(contracts, "Loader", _LoaderWithMore)
    with pytest.raises(AssertionError, match=r"read_labels.*differs from _LoaderWithMore"):
        testing.check_loader(_Partial())


def test_the_checks_read_attribute_types_from_the_protocol() -> None:
    loader = _Partial()
    loader.extensions = {"abc"}  # type: ignore[assignment]  # a set, not a frozenset
    with pytest.raises(AssertionError, match="extensions"):
        testing.check_loader(loader)
    attributes, methods = testing.protocol_members(contracts.Processor)
    assert set(attributes) == {"id", "version", "columns", "halo", "uses_overview"}
    assert set(methods) == {"wants", "measure", "merge", "finalize"}
    assert list(methods["finalize"].parameters) == ["state"]


def test_an_optional_capability_must_be_met_whole() -> None:
    class HalfThumbnails(_Partial):
        def open_thumbnail_array(self, path: Path, info: ImageInfo) -> Any:
            return None

    with pytest.raises(AssertionError, match=r"open_thumbnail_array.*ThumbnailArraySource"):
        testing.check_loader(HalfThumbnails())
