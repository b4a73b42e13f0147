"""Routing of the viewer: arguments, page config, header, sidebar, then one page."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import streamlit as st

from pixel_patrol_base.viewing import widgets as pw

from . import data, header, pages, sidebar
from . import state as ss


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments ``pixel-patrol view`` passes after ``--``."""
    parser = argparse.ArgumentParser(prog="pixel-patrol viewer")
    parser.add_argument("--report", required=True)
    parser.add_argument("--state", default="")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str]) -> None:
    """Draw the whole app for one script run."""
    args = parse_args(argv)
    st.set_page_config(page_title="PixelPatrol", layout="wide")
    report = args.report
    header.draw(data.metadata(report))
    columns = data.columns(report)
    loaded = pw.load_widgets()
    ss.seed(args.state, loaded, pw.default_group_col(columns, data.connection(report).cursor()))
    sidebar.draw(report, columns, loaded)
    current = ss.current(loaded)
    ss.publish(current)
    if st.session_state[ss.MODE] == "Overview":
        pages.overview(report, columns, loaded, current)
    else:
        pages.full(report, columns, loaded, current)
