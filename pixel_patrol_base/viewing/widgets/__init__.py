"""Viewer widgets declared as data, their SQL compiler and the query layer.

Both viewer runtimes (the Streamlit app and the static browser viewer) render the same
declarations; see docs/widgets.md for the format.
"""

from __future__ import annotations

from pixel_patrol_base.viewing.widgets.custom import export_custom_plot, write_custom_plot
from pixel_patrol_base.viewing.widgets.formats import (
    badge_text,
    fill_text,
    format_value,
    header_facts,
    hidden_note,
    kpi_cards,
    overview_text,
)
from pixel_patrol_base.viewing.widgets.loader import (
    ENTRY_POINT_GROUP,
    USER_DIRS_ENV,
    format_widget_list,
    get_widget,
    load_widget_dir,
    load_widget_file,
    load_widgets,
)
from pixel_patrol_base.viewing.widgets.model import (
    DIM_AXES,
    FILTER_OPS,
    Control,
    Filter,
    ViewState,
    Widget,
    WidgetResult,
)
from pixel_patrol_base.viewing.widgets.palettes import (
    PALETTES,
    apply_palette,
    group_colors,
    palette_colors,
)
from pixel_patrol_base.viewing.widgets.qc_tables import add_qc_tables, qc_tables
from pixel_patrol_base.viewing.widgets.query import (
    check_state,
    compile_widget,
    default_group_col,
    group_options,
    missing_columns,
    prepare_widgets,
    resolve_controls,
    run_widget,
    table_columns,
    view_visible,
)
from pixel_patrol_base.viewing.widgets.specs import chart_spec, compact, tile_spec
from pixel_patrol_base.viewing.widgets.sql import Ident, compile_sql
from pixel_patrol_base.viewing.widgets.stats import Bracket, mann_whitney_brackets, mann_whitney_u

__all__ = [
    "DIM_AXES",
    "ENTRY_POINT_GROUP",
    "FILTER_OPS",
    "PALETTES",
    "USER_DIRS_ENV",
    "Bracket",
    "Control",
    "Filter",
    "Ident",
    "ViewState",
    "Widget",
    "WidgetResult",
    "add_qc_tables",
    "apply_palette",
    "badge_text",
    "chart_spec",
    "check_state",
    "compact",
    "compile_sql",
    "compile_widget",
    "default_group_col",
    "export_custom_plot",
    "fill_text",
    "format_value",
    "format_widget_list",
    "get_widget",
    "group_colors",
    "group_options",
    "header_facts",
    "hidden_note",
    "kpi_cards",
    "load_widget_dir",
    "load_widget_file",
    "load_widgets",
    "mann_whitney_brackets",
    "mann_whitney_u",
    "missing_columns",
    "overview_text",
    "palette_colors",
    "prepare_widgets",
    "qc_tables",
    "resolve_controls",
    "run_widget",
    "table_columns",
    "tile_spec",
    "view_visible",
    "write_custom_plot",
]
