"""Text from a report or a URL, shown as text: never Markdown, never HTML.

``st.title``, ``st.caption``, ``st.markdown``, ``st.warning``, ``st.error``, ``st.info``
and ``st.metric`` render their text as Markdown (images, links, directives such as
``:red[...]``, emoji codes, math), and GFM turns any ``https://...`` in the text into a
link whatever the escaping. So text from a report (its name, flavor, description, paths,
column names, metadata strings) or from the URL is shown with a text element
(``st.text``, ``st.dataframe``), with :func:`heading` / :func:`small` (HTML-escaped text
in ``st.html``), or, for short fixed-form texts such as metric labels, through
:func:`literal`.
"""

from __future__ import annotations

import html
import string

import streamlit as st

_MARKDOWN = frozenset(string.punctuation)
"""Every character that Markdown (CommonMark, GFM, Streamlit's directives) can give a
meaning: ASCII punctuation. Each is written as a numeric character reference, which
CommonMark shows as the character itself and never reads as structure. (GFM still
links a bare ``https://...``; that is why report text goes to text elements.)"""


def literal(text: object, one_line: bool = True) -> str:
    """``text`` encoded so that Markdown shows it character for character.

    Args:
        text: Any value; shown as ``str(text)``.
        one_line: Join the lines with spaces (a heading or a notice keeps to one line).
    """
    value = str(text)
    if one_line:
        value = " ".join(value.splitlines())
    return "".join(f"&#{ord(c)};" if c in _MARKDOWN else c for c in value)


def heading(text: object) -> None:
    """``text`` as the page's title (an ``<h1>`` holding only escaped text)."""
    st.html(f'<h1 style="margin:0 0 0.25rem 0">{html.escape(str(text))}</h1>')


def small(text: object) -> None:
    """``text`` as a muted caption line (escaped text only)."""
    st.html(f'<p style="opacity:0.65;font-size:0.875rem;margin:0">{html.escape(str(text))}</p>')
