"""The safe expression language of QC rules: tokens, parser, syntax tree, compiler.

``parse(text)`` gives a tree of frozen dataclasses (:mod:`.nodes`); ``column_names``
lists the columns it reads without evaluating it; ``compile_node`` turns it into a
polars expression. Nothing is ever ``eval``'d: only the operators of the grammar and the
functions in :data:`.functions.FUNCTIONS` exist.
"""

from pixel_patrol_base.qc.expr.compiler import compile_node
from pixel_patrol_base.qc.expr.functions import FUNCTIONS, Context
from pixel_patrol_base.qc.expr.nodes import Node, column_names, rename_column, subject
from pixel_patrol_base.qc.expr.parser import parse

__all__ = [
    "FUNCTIONS",
    "Context",
    "Node",
    "column_names",
    "compile_node",
    "parse",
    "rename_column",
    "subject",
]
