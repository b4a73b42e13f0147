"""The ``pixel-patrol`` command line: one module per subcommand.

``main`` (the console script's entry point) builds the parser from each subcommand
module's ``add_<name>_parser`` and maps errors to exit statuses; ``progress`` draws the
bar that ``process`` feeds. The CLI is the only part of the package that prints.
"""

from pixel_patrol_base.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
