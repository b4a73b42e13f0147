"""Routing of the viewer: arguments, page config, header, notices, sidebar, then one page
(the single-image view when the state names an image, else the chosen mode).

The whole page runs inside :func:`pp_viewer.guard.contained`, so a failure shows a short
message naming the log, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import streamlit as st

from . import data, guard, header, pages, sidebar
from . import state as ss


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments ``pixel-patrol view`` passes after ``--``."""
    parser = argparse.ArgumentParser(prog="pixel-patrol viewer")
    parser.add_argument("--report", required=True)
    parser.add_argument("--state", default="")
    parser.add_argument("--log", default=None, help="file the viewer logs to")
    return parser.parse_args(list(argv))


def _notices(slot: Any) -> None:
    """The bookmark values dropped when the session was seeded, one line each."""
    notices: list[str] = st.session_state.get(ss.NOTICES, [])
    if notices:
        with slot.container():
            st.warning("Parts of the bookmark were ignored; the rest of the view is shown.")
            st.text("\n".join(notices))


def _page(report: str, launch_state: str) -> None:
    header.draw(data.metadata(report))
    columns = data.columns(report)
    loaded = data.widgets()
    default_group = data.default_group(report)

    def count_image(sql: str, params: list[object]) -> int:
        return int(data.query(report, sql, tuple(params)).column(0)[0].as_py())

    ss.seed(launch_state, loaded, columns, default_group, count_image)
    slot = st.empty()
    sidebar.draw(report, columns, loaded)
    _notices(slot)
    current = ss.current(loaded)
    ss.publish(current)
    mode = st.session_state[ss.MODE]
    if current.image is not None:
        pages.image(report, columns, loaded, current, data.metadata(report))
    elif mode == "Issues":
        pages.issues(report, columns, loaded, current)
    elif mode == "Overview":
        pages.overview(report, columns, loaded, current)
    else:
        pages.full(report, columns, loaded, current)


def main(argv: Sequence[str]) -> None:
    """Draw the whole app for one script run."""
    args = parse_args(argv)
    st.set_page_config(page_title="PixelPatrol", layout="wide")
    guard.configure(args.log)
    with guard.contained("The page"):
        _page(args.report, args.state)
