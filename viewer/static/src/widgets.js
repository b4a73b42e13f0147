// Running widget declarations on duckdb-wasm: the JavaScript side of
// pixel_patrol_base/viewing/widgets/query.py (controls, compiled queries, `when`, default group).
import { CompileError, compileSql, Ident, quoteIdent } from "./compile.js";

const GROUPABLE =
  /^(VARCHAR|BIGINT|INTEGER|SMALLINT|TINYINT|BOOLEAN|DOUBLE|FLOAT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|HUGEINT)/;

/** Columns one can group by: scalar text, integer, boolean and float columns, in order. */
export function groupOptions(columns) {
  return Object.entries(columns)
    .filter(([, t]) => GROUPABLE.test(t.toUpperCase()) && !t.endsWith("[]"))
    .map(([n]) => n);
}

/** The columns `widget` requires that the table lacks, in declaration order. */
export function missingColumns(widget, columns) {
  return (widget.requires || []).filter((name) => !(name in columns));
}

const pyRepr = (value) => (typeof value === "string" ? `'${value}'` : String(value));

function oneOf(widget, control, value) {
  return new CompileError(
    "WidgetStateError",
    `control ${widget.id}.${control.id} takes one of ${control.options.join(", ")}, not ${pyRepr(value)}`,
  );
}

/** One control's value checked against its type (as query.py resolve_controls). */
function checkedControl(widget, control, value, columns) {
  const where = `control ${widget.id}.${control.id}`;
  const options = control.options ?? null;
  if (control.type === "toggle") {
    if (typeof value !== "boolean") throw new CompileError("WidgetStateError", `${where} takes true or false`);
  } else if (control.type === "number") {
    if (typeof value !== "number") throw new CompileError("WidgetStateError", `${where} takes a number`);
  } else if (control.type === "column") {
    if (options !== null && !options.includes(value)) throw oneOf(widget, control, value);
    if (typeof value !== "string" || !Object.hasOwn(columns, value)) {
      throw new CompileError("UnknownColumnError", `${where}: column ${pyRepr(value)} is not in the table`);
    }
    return new Ident(value);
  } else if (options !== null && !options.includes(value)) {
    throw oneOf(widget, control, value);
  }
  return value;
}

/** Control id -> value: the state's value, else the declared default (Ident for columns). */
export function resolveControls(widget, state, columns) {
  const given = state.controls?.[widget.id] || {};
  const controls = widget.controls || [];
  const unknown = Object.keys(given)
    .filter((id) => !controls.some((c) => c.id === id))
    .sort();
  if (unknown.length) {
    const known = controls.map((c) => c.id).join(", ") || "none";
    throw new CompileError(
      "WidgetStateError",
      `widget '${widget.id}' has no control '${unknown[0]}'; its controls are ${known}`,
    );
  }
  const values = {};
  for (const control of controls) {
    const value = Object.hasOwn(given, control.id) ? given[control.id] : control.default;
    values[control.id] = checkedControl(widget, control, value, columns);
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

/** Whether a view's `when` holds: row-count bounds on a query, a control's value, or both. */
export function viewVisible(view, data, controls = {}) {
  const when = view.when;
  if (!when) return true;
  if (when.control !== undefined) {
    const value = controls[when.control];
    if (!(when.in || []).includes(value instanceof Ident ? value.name : value)) return false;
    if (when.query === undefined) return true;
  }
  const rows = (data[when.query] || []).length;
  return (when.min_rows ?? 0) <= rows && rows <= (when.max_rows ?? rows);
}

// The default grouping lives with the group-by rules (grouping.js, twin of query.py).
export { defaultGroupCol } from "./grouping.js";

/**
 * The state the single-image view's widgets run with (model.py ViewState.image_view): the
 * filters `path = <path>` (and `child_id = <child_id>` in a container file) replace the
 * sidebar's, and no dimension is selected; `state` itself when no image is open.
 */
export function imageViewState(state) {
  const image = state.image;
  if (!image) return state;
  const filters = [{ column: "path", op: "eq", value: image.path }];
  if (image.child_id !== null && image.child_id !== undefined) {
    filters.push({ column: "child_id", op: "eq", value: image.child_id });
  }
  return { ...state, filters, dims: {} };
}
