"""Every error PixelPatrol raises on purpose lives here.

Each message names the offending input and says what to do instead. The CLI maps
:class:`InvalidInputError` to exit status 2 and any other :class:`PixelPatrolError`
to exit status 1. Nothing in this module imports anything heavy.
"""

from __future__ import annotations


class PixelPatrolError(Exception):
    """Base class of all errors raised by PixelPatrol on purpose."""


class InvalidInputError(PixelPatrolError, ValueError):
    """A value given by the user is invalid; nothing has been started."""


class ProjectNameError(InvalidInputError):
    """The project name is empty or unusable."""


class NotAProjectError(InvalidInputError):
    """A function that takes a project was given something else (``None``, a path)."""


class BaseDirError(InvalidInputError):
    """The base directory is missing or not a directory."""


class PathError(InvalidInputError):
    """An added path is missing, not a directory, or outside the base directory."""


class UnknownPluginError(InvalidInputError):
    """A loader or processor id is not installed."""


class PluginLoadError(PixelPatrolError):
    """An installed plugin (loader or processor) cannot be imported."""


class SettingsError(InvalidInputError):
    """A processing setting has an invalid value."""


class SchedulerUnreachableError(SettingsError):
    """The Dask scheduler given (or of the active ``distributed.Client``) cannot be reached."""


class OutputError(InvalidInputError):
    """The output location cannot be created or written."""


class OutputExistsError(OutputError):
    """An output path (report, workdir, log file, viewer file) holds something that is not
    PixelPatrol's to replace, e.g. an image, or another dataset's report without ``force``."""


class RunLockedError(PixelPatrolError):
    """Another run is producing the same output right now."""


class WorkflowError(PixelPatrolError):
    """The Snakemake workflow failed; the message points to its log."""


class ReportValidationError(PixelPatrolError):
    """The merged table violates the column catalog (pandera failure cases attached)."""


class NotAReportError(InvalidInputError):
    """A file given as a report is missing, not Parquet, or not a PixelPatrol table."""


class ReportCorruptError(NotAReportError):
    """A report's bytes differ from the checksums in its footer, or it carries none
    (``api.load(verify=True)``, ``pixel-patrol verify``); rerun to rebuild it."""


class ImageLoadError(PixelPatrolError):
    """An image could not be opened or decoded; the message is one line naming the file."""


class MissingFormatPluginError(ImageLoadError):
    """The bioio plugin for a file format is not installed; the message names the package."""


class ViewOptionError(InvalidInputError):
    """A viewer option (group column, filter, dimension, widget id, palette) is invalid."""


class QuickLookError(InvalidInputError):
    """``pixel-patrol view IMAGE``: the image file is missing, unreadable or not an image."""


class PortInUseError(InvalidInputError):
    """The port asked for the viewer is already taken on 127.0.0.1."""


class ViewerStartError(PixelPatrolError):
    """The Streamlit viewer process exited before it answered."""


class UnknownWidgetError(ViewOptionError):
    """A widget id is not among the installed widget declarations."""


class UnknownColumnError(ViewOptionError):
    """A column named for grouping, filtering or a widget control is not in the table."""


class UnknownFilterOpError(ViewOptionError):
    """A filter operator is not one of ``FILTER_OPS``."""


class WidgetStateError(ViewOptionError):
    """A view state value (filter value, dimension index, control value) is unusable."""


class WidgetDeclarationError(PixelPatrolError):
    """A widget declaration file is malformed; the message names the file."""


class ViewerAssetsMissingError(PixelPatrolError):
    """The static viewer's JavaScript/WASM assets are not built; the message says how."""


class EmbeddedDataTooLargeError(InvalidInputError):
    """A report is too large to embed into a single-file static viewer."""


class ExpressionError(InvalidInputError):
    """A QC rule expression does not parse; the message shows it with a caret at the fault."""

    def __init__(self, expression: str, position: int, expected: str) -> None:
        self.expression = expression
        self.position = position
        self.expected = expected
        start = expression.rfind("\n", 0, position) + 1  # show the line holding the fault
        end = expression.find("\n", position)
        line = expression[start : end if end >= 0 else len(expression)]
        caret = " " * (position - start) + "^"
        where = f"at position {position + 1} of the expression"
        super().__init__(f"{expected} {where}\n    {line}\n    {caret}")


class RulesFileError(InvalidInputError):
    """A QC rules file is malformed; the first line names the file, the line and the fault."""


class FilterValueError(ViewOptionError):
    """A viewer filter's value does not fit its operator or its column's type."""
