"""The ``bioio`` loader reads Zarr stores that no bioio plugin reads with the zarr reader.

The default install has no bioio-ome-zarr, so without the fallback every Zarr store of a
``bioio`` run would be a load-error row; with it, the store's header and pixels equal
those of the ``zarr`` loader, its rows say ``format_reader = zarr``, and their
``load_warnings`` keep what bioio-ome-zarr answered.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import zarr

from pixel_patrol_base.loaders.bioio import fallback
from pixel_patrol_base.loaders.zarr_loader import READER
from pixel_patrol_base.plugins import get_loader
from pixel_patrol_base.plugins.contracts import ImageInfo

REAL_ZARR = Path(__file__).resolve().parents[2].parent / "shared/testdata/real/ome-zarr"


def _without_bioios_answer(info: ImageInfo) -> ImageInfo:
    """``info`` as the zarr loader gives it: the hand-over's warning taken out."""
    warnings = info.extra.get("load_warnings")
    assert warnings, "a store bioio-ome-zarr refuses keeps what it answered"
    assert "bioio-ome-zarr" in warnings[0]
    extra = {k: v for k, v in info.extra.items() if k != "load_warnings"}
    return dataclasses.replace(info, extra=extra)


def test_the_fallback_names_the_zarr_loaders_reader() -> None:
    assert fallback.ZARR_READER == READER


def test_a_plain_zarr_array_reads_as_by_the_zarr_loader(tmp_path: Path) -> None:
    pixels = np.arange(40 * 70, dtype=np.uint16).reshape(40, 70)
    zarr.create_array(tmp_path / "a.zarr", data=pixels, chunks=(16, 32), zarr_format=2)
    bioio, own = get_loader("bioio"), get_loader("zarr")
    [info] = bioio.read_header(tmp_path / "a.zarr")
    assert _without_bioios_answer(info) == own.read_header(tmp_path / "a.zarr")[0]
    assert info.extra["format_reader"] == READER
    np.testing.assert_array_equal(bioio.read_array(tmp_path / "a.zarr", info), pixels)
    np.testing.assert_array_equal(np.asarray(bioio.open_array(tmp_path / "a.zarr", info)), pixels)


@pytest.mark.parametrize("name", ["ome-zarr-py_v1.zarr", "ome-zarr-py_v2.zarr", "plate-01.zarr"])
def test_real_ome_zarr_stores_read_through_the_bioio_loader(name: str) -> None:
    path = REAL_ZARR / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    bioio, own = get_loader("bioio"), get_loader("zarr")
    infos = bioio.read_header(path)
    assert [_without_bioios_answer(i) for i in infos] == own.read_header(path)
    first = infos[0]
    assert bioio.read_array(path, first).shape == first.shape
