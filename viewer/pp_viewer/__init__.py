"""The PixelPatrol Streamlit viewer: pages that lay out, renderers per widget kind.

Modules: ``main`` (routing), ``data`` (cached DuckDB connection and queries),
``state`` (sidebar state <-> URL query string), ``sidebar``, ``header``, ``render``
(one function per declaration kind) and ``pages`` (Overview grid and Full view).
"""
