"""Every built-in processor satisfies the Processor Protocol; failures stay isolated."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.imaging.blocks import Leaf
from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor, TileVisitor
from pixel_patrol_base.plugins.registry import processor_ids
from pixel_patrol_base.plugins.testing import check_installed_processor, check_processor
from pixel_patrol_base.table import catalog
from pixel_patrol_base.table.catalog import Column, Levels

IMAGE = np.random.default_rng(0).integers(0, 1000, size=(3, 20, 24)).astype(np.uint16)
INFO = ImageInfo(None, "ZYX", IMAGE.shape, "uint16")


def _protocol_members() -> tuple[dict[str, Any], dict[str, inspect.Signature]]:
    """Attributes (with their annotated types) and methods the Protocol declares."""
    hints = typing.get_type_hints(Processor, localns={"Column": Column})
    methods = {
        name: inspect.signature(member)
        for name, member in vars(Processor).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }
    return hints, methods


def test_built_in_processors_are_installed(processors: list[Processor]) -> None:
    assert {p.id for p in processors} <= set(processor_ids())


def test_processors_conform_to_the_protocol(processors: list[Processor]) -> None:
    hints, methods = _protocol_members()
    assert {"id", "version", "columns", "halo", "uses_overview"} <= hints.keys()
    assert {"wants", "measure", "merge", "finalize"} <= methods.keys()
    for processor in processors:
        assert isinstance(processor, Processor)
        for name, kind in hints.items():
            value = getattr(processor, name)
            origin = typing.get_origin(kind) or kind
            assert isinstance(value, origin), f"{processor.id}.{name}"
        for name, signature in methods.items():
            implemented = inspect.signature(getattr(processor, name))
            expected = [p for p in signature.parameters if p != "self"]
            assert list(implemented.parameters) == expected, f"{processor.id}.{name}"


def test_columns_are_declared_in_the_catalog(processors: list[Processor]) -> None:
    for processor in processors:
        assert processor.columns
        assert processor.version
        for column in processor.columns:
            assert catalog.lookup(column.name) is column
            assert column.producer == processor.id
            assert len(column.description) > 40


def test_built_in_processors_pass_the_conformance_helper(processors: list[Processor]) -> None:
    assert len(processors) == 5
    for processor in processors:
        check_installed_processor(processor.id)


def test_conformance_helper_accepts_a_plain_custom_processor() -> None:
    check_processor(Broken("none"))


def test_conformance_helper_rejects_a_column_of_another_producer() -> None:
    broken = Broken("none")
    broken.columns = (Column("broken_none", "float64", "Fails.", producer="someone-else"),)
    with pytest.raises(AssertionError, match="'someone-else' as producer"):
        check_processor(broken)


def test_thumbnail_columns_are_image_level_only(processors: list[Processor]) -> None:
    thumbnail = next(p for p in processors if p.id == "thumbnail")
    assert all(c.levels is Levels.IMAGE for c in thumbnail.columns)


class Broken:
    """A processor that fails in the stage it is told to."""

    version = "0"
    halo = 0
    uses_overview = False

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.id = f"broken-{stage}"
        self.columns = (
            Column(f"broken_{stage}", "float64", "Fails on purpose.", producer=self.id),
        )

    def wants(self, leaf: Leaf) -> bool:
        if self.stage == "wants":
            raise ValueError("cannot decide")
        return True

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, float]:
        def visit(tile: Tile) -> None:
            if self.stage == "visit" and tile.plane["Z"] == 1:
                raise RuntimeError("boom\non two lines")

        yield visit
        return 1.0

    def merge(self, states: Sequence[float]) -> float:
        if self.stage == "merge":
            raise ArithmeticError("cannot merge")
        return sum(states)

    def finalize(self, state: float) -> dict[str, Any]:
        if self.stage == "finalize":
            raise KeyError("missing")
        return {self.columns[0].name: state}


@pytest.mark.parametrize("stage", ["wants", "visit", "merge", "finalize"])
def test_a_failing_processor_leaves_the_others_intact(
    stage: str, processors: list[Processor]
) -> None:
    broken = Broken(stage)
    assert isinstance(broken, Processor)
    clean = process_image(IMAGE, INFO, processors, slice_size={}, mb_per_task=64).rows
    rows = process_image(
        IMAGE, INFO, [processors[0], broken, *processors[1:]], slice_size={}, mb_per_task=64
    ).rows
    errors = rows[0]["processor_errors"]
    assert errors is not None and len(errors) == 1
    assert errors[0].startswith(f"broken-{stage}: ")
    assert "\n" not in errors[0]
    for row, good in zip(rows, clean, strict=True):
        assert row[f"broken_{stage}"] is None
        for name, value in good.items():
            if name != "processor_errors":
                assert row[name] == value, name


def test_working_custom_processor_merges_upward() -> None:
    rows = process_image(IMAGE, INFO, [Broken("none")], slice_size={}, mb_per_task=64).rows
    assert [r["broken_none"] for r in rows] == [3.0, 1.0, 1.0, 1.0]
    assert rows[0]["processor_errors"] is None


def test_invalid_slice_size_is_a_settings_error(processors: list[Processor]) -> None:
    with pytest.raises(SettingsError, match="slice_size"):
        process_image(IMAGE, INFO, processors, slice_size={"Z": 0}, mb_per_task=64)


def test_array_and_dim_order_must_agree(processors: list[Processor]) -> None:
    with pytest.raises(ValueError, match="dim_order"):
        process_image(IMAGE[0], INFO, processors, slice_size={}, mb_per_task=64)
