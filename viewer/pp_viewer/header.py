"""The page header: project name, flavor, description and key counts from the footer."""

from __future__ import annotations

import streamlit as st

from pixel_patrol_base.table.footer import ProjectMetadata
from pixel_patrol_base.viewing import widgets as pw

from .text import heading, literal, small

USER_FACTS = {"files_found": "files_found", "images": "images", "failed": "failed_to_load"}
"""Footer count -> the key it is shown under (``_`` as spaces): what a user asks about.
The run's bookkeeping (rows, shards processed / reused) stays out of the header; the
static viewer (``main.js`` ``drawHeader``) shows the same."""


def draw(meta: ProjectMetadata) -> None:
    """Draw the header; report text is shown literally, never as Markdown or HTML.

    The name and the flavor line are escaped text (:func:`pp_viewer.text.heading`,
    :func:`~pp_viewer.text.small`), the description is ``st.text`` and the counts'
    labels go through :func:`~pp_viewer.text.literal` (``st.metric`` renders Markdown).

    The counts are the footer's :data:`USER_FACTS`, as the static viewer shows them
    (:func:`~pixel_patrol_base.viewing.widgets.header_facts`).
    """
    heading(meta.project_name)
    created = str(meta.created_at or "")[:19].replace("T", " ")
    line = " · ".join(str(x) for x in (meta.flavor, created) if x)
    if line:
        small(line)
    if meta.description:
        st.text(str(meta.description))
    counts = {
        shown_as: meta.counts[key] for key, shown_as in USER_FACTS.items() if key in meta.counts
    }
    shown = pw.header_facts(counts)
    if shown:
        for cell, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
            cell.metric(literal(label), literal(value))
