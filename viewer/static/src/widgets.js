// Running widget declarations on duckdb-wasm: the JavaScript side of
// pixel_patrol_base/viewing/widgets/query.py (controls, compiled queries, `when`, default group).
import { CompileError, Ident, compileSql, quoteIdent } from "./compile.js";

const GROUP_FALLBACKS = ["imported_path_short", "file_extension", "dtype", "parent"];

/** The columns `widget` requires that the table lacks, in declaration order. */
export function missingColumns(widget, columns) {
  return (widget.requires || []).filter((name) => !(name in columns));
}

/** Control id -> value: the state's value, else the declared default (Ident for columns). */
export function resolveControls(widget, state, columns) {
  const given = (state.controls || {})[widget.id] || {};
  const values = {};
  for (const control of widget.controls || []) {
    let value = control.id in given ? given[control.id] : control.default;
    if (control.type === "column") {
      if (!(value in columns)) {
        throw new CompileError("UnknownColumnError", `control ${widget.id}.${control.id}: column '${value}' is not in the table`);
      }
      value = new Ident(value);
    }
    values[control.id] = value;
  }
  return values;
}

/** Query name -> {sql, params} for `widget` under `state` (plus `values`: the controls). */
export function compileWidget(widget, state, columns) {
  if (state.group_col !== null && state.group_col !== undefined) quoteIdent(state.group_col, columns);
  for (const flt of state.filters || []) quoteIdent(flt.column, columns);
  const values = resolveControls(widget, state, columns);
  const out = {};
  for (const [name, template] of Object.entries(widget.queries)) {
    const [sql, params] = compileSql(template, state, columns, values);
    out[name] = { sql, params };
  }
  return out;
}

/** Whether a view's `when` condition (row-count bounds on a query) holds. */
export function viewVisible(view, data, controls = {}) {
  const when = view.when;
  if (!when) return true;
  if (when.control !== undefined) {
    const value = controls[when.control];
    return (when.in || []).includes(value instanceof Ident ? value.name : value);
  }
  const rows = (data[when.query] || []).length;
  return (when.min_rows ?? 0) <= rows && rows <= (when.max_rows ?? rows);
}

/** imported_path_short when several paths were imported, else a column that splits. */
export async function defaultGroupCol(columns, sql) {
  const present = GROUP_FALLBACKS.filter((name) => name in columns);
  for (const name of present) {
    const rows = await sql(`SELECT count(DISTINCT ${quoteIdent(name, columns)}) AS n FROM pp_data WHERE obs_level = 0`);
    if (rows[0].n > 1) return name;
  }
  return present.length ? present[0] : null;
}
