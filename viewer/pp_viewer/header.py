"""The page header: project name, flavor, description and key counts from the footer."""

from __future__ import annotations

import streamlit as st

from pixel_patrol_base.table.footer import ProjectMetadata

_COUNTS = (
    ("files", "Files"),
    ("images", "Images"),
    ("failed", "Failed"),
    ("rows", "Rows"),
)


def draw(meta: ProjectMetadata) -> None:
    """Draw the header (all text is shown as text, never as HTML)."""
    st.title(meta.project_name, anchor=False)
    line = " · ".join(x for x in (meta.flavor, meta.created_at[:19].replace("T", " ")) if x)
    if line:
        st.caption(line)
    if meta.description:
        st.text(meta.description)
    shown = [(label, meta.counts[key]) for key, label in _COUNTS if key in meta.counts]
    if shown:
        for cell, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
            cell.metric(label, f"{value:,}" if isinstance(value, int) else str(value))
