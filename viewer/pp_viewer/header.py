"""The page header: project name, flavor, description and key counts from the footer."""

from __future__ import annotations

import streamlit as st

from pixel_patrol_base.table.footer import ProjectMetadata
from pixel_patrol_base.viewing import widgets as pw


def draw(meta: ProjectMetadata) -> None:
    """Draw the header (all text is shown as text, never as HTML).

    The counts are the footer's numeric ones, as the static viewer shows them
    (:func:`~pixel_patrol_base.viewing.widgets.header_facts`).
    """
    st.title(meta.project_name, anchor=False)
    line = " · ".join(x for x in (meta.flavor, meta.created_at[:19].replace("T", " ")) if x)
    if line:
        st.caption(line)
    if meta.description:
        st.text(meta.description)
    shown = pw.header_facts(meta.counts)
    if shown:
        for cell, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
            cell.metric(label, value)
