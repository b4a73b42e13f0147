"""The working frame of a QC evaluation: the table plus a few internal columns.

:func:`prepare` adds to every row its index (``ROW``), the index of its image row,
the obs_level 0 row with the same ``path`` and ``child_id`` (``IMAGE``), and its QC
group (``GROUP``: the ``group_by`` value of its image row, as text). Internal column
names start with ``__qc_``. What does not belong here: rules and verdicts.
"""

from __future__ import annotations

import polars as pl

from pixel_patrol_base.errors import NotAReportError, SettingsError
from pixel_patrol_base.table import catalog

ROW = "__qc_row"
IMAGE = "__qc_image"
GROUP = "__qc_group"
WARN = "__qc_warn"
FAIL = "__qc_fail"
VALUE = "__qc_value"
STATUS = "__qc_status"
REQUIRED = ("path", "obs_level")
"""Columns a table must have to be judged."""


def dim_columns(columns: list[str]) -> list[str]:
    """The ``dim_<axis>`` index columns among ``columns``, in catalog order."""
    present = set(columns)
    return [c for c in catalog.key_columns() if c.startswith("dim_") and c in present]


def key_columns(columns: list[str]) -> list[str]:
    """The row key columns of the working frame: path, child_id, obs_level, dim_*."""
    return ["path", "child_id", "obs_level", *dim_columns(columns)]


def internal_columns(work: pl.DataFrame) -> list[str]:
    """Columns every rule's rows carry: the internal ones and the row key."""
    return [ROW, IMAGE, GROUP, *key_columns(work.columns)]


def prepare(table: pl.DataFrame, group_by: str | None) -> pl.DataFrame:
    """The table with ``ROW``, ``IMAGE`` and ``GROUP`` added (row order kept).

    Raises:
        NotAReportError: the table lacks ``path`` or ``obs_level``.
        SettingsError: ``group_by`` is not a column of the table.
    """
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise NotAReportError(
            f"the table has no column {', '.join(missing)}; pass a PixelPatrol report table"
        )
    if group_by is not None and group_by not in table.columns:
        raise SettingsError(
            f"QC group column {group_by!r} is not in the table; pick one of its columns"
        )
    work = table.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    if "child_id" not in work.columns:
        work = work.with_columns(pl.lit(None, pl.String).alias("child_id"))
    group = pl.lit(None, pl.String) if group_by is None else pl.col(group_by).cast(pl.String)
    # joining on path alone is the same, and faster, when no row names a sub-image
    on = ["path"] if work["child_id"].null_count() == work.height else ["path", "child_id"]
    images = work.filter(pl.col("obs_level") == 0).select(
        *on, pl.col(ROW).alias(IMAGE), group.alias(GROUP)
    )
    keys = work.select(on)
    joined = _image_of(keys, images, on)
    if joined.height != work.height:  # repeated image keys: the first image row counts
        joined = _image_of(keys, images.unique(on, keep="first", maintain_order=True), on)
    # a slice without an image row keeps its own group value
    own_group = work.select(group.alias(GROUP)).to_series()
    return work.with_columns(joined[IMAGE], pl.coalesce(joined[GROUP], own_group).alias(GROUP))


def _image_of(keys: pl.DataFrame, images: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """``IMAGE`` and ``GROUP`` for each row of ``keys`` (a narrow join keeps it cheap)."""
    return keys.join(images, on=on, how="left", nulls_equal=True, maintain_order="left")
