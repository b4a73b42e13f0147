"""Pairwise Mann-Whitney U brackets (Bonferroni) under a widget, when significance is on.

A declaration opts in with ``"significance": {"query": ..., "group": ..., "value": ...}``
naming the query whose rows hold one value per data point and the two fields; the test
itself is :func:`pixel_patrol_base.viewing.widgets.mann_whitney_brackets` (numpy only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st

from pixel_patrol_base.viewing import widgets as pw


def brackets(table: pa.Table, group: str, value: str) -> list[pw.Bracket]:
    """The brackets of ``value`` between the groups of ``group`` in ``table``."""
    groups: dict[str, np.ndarray] = {}
    for name in pc.unique(table[group]).to_pylist():
        if name is None:
            continue
        rows = table.filter(pc.equal(table[group], name))
        groups[str(name)] = rows[value].to_numpy(zero_copy_only=False).astype(float)
    return pw.mann_whitney_brackets(dict(sorted(groups.items())))


def draw(widget: pw.Widget, result: pw.WidgetResult) -> None:
    """The bracket table of ``widget``, if its declaration asks for one."""
    spec: Mapping[str, Any] | None = widget.declaration.get("significance")
    if not spec or spec.get("query") not in result.data:
        return
    table = result.data[spec["query"]]
    if spec["group"] not in table.column_names or spec["value"] not in table.column_names:
        return
    found = brackets(table, spec["group"], spec["value"])
    if not found:
        st.caption("Significance needs at least two groups.")
        return
    st.caption("Pairwise Mann-Whitney U, Bonferroni-corrected")
    st.dataframe(
        pa.table(
            {
                "group A": [b.group_a for b in found],
                "group B": [b.group_b for b in found],
                "U": [b.u_statistic for b in found],
                "p": [b.p_value for b in found],
                "p (Bonferroni)": [b.p_adjusted for b in found],
                "": [b.stars for b in found],
            }
        ),
        hide_index=True,
    )
