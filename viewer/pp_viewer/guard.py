"""No traceback in the browser: failures are logged, the page says where.

:func:`configure` sends the viewer's log to the file that ``pixel-patrol view`` passed
(``--log``). :func:`contained` wraps a part of the page (the whole page in
:mod:`pp_viewer.main`, each widget in :mod:`pp_viewer.pages`): an exception inside it is
logged with its traceback and replaced by a short message naming the log; the rest of
the page still renders. Streamlit's own error details are off as well
(``client.showErrorDetails=none``, set by ``pixel_patrol_base.viewing.serve``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from .text import literal

log = logging.getLogger("pp_viewer")

_LOGGERS = ("pp_viewer", "pixel_patrol_base")
_state: dict[str, Path | None] = {"log_file": None}


def configure(log_file: str | None) -> None:
    """Log the viewer's messages (INFO and up) to ``log_file``, once per process."""
    if not log_file:
        return
    path = Path(log_file)
    _state["log_file"] = path
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
            logger.addHandler(handler)


def where_logged() -> str:
    """Where the details of a failure are, as a sentence."""
    path = _state["log_file"]
    if path is None:
        return "The details are in the output of the command that started the viewer."
    return f"The details are in the viewer's log: {path}"


@contextmanager
def contained(what: str) -> Iterator[None]:
    """Log an exception raised inside the block and show a short message instead.

    Streamlit's rerun and stop signals (``BaseException``) pass through.
    """
    try:
        yield
    except Exception:  # the page goes on; the traceback goes to the log only
        log.exception("could not draw %s", what)
        st.warning(literal(f"{what} could not be drawn for this view. {where_logged()}"))
