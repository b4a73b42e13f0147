// The placeholder compiler, a line-for-line port of pixel_patrol_base/viewing/widgets/sql.py
// (specified in docs/widgets.md). tests/widgets/sql_vectors.json holds input/output pairs
// that both implementations must reproduce; tests/static_viewer checks this one under node
// (test/vectors.mjs) and in Chromium.

export const FILTER_OPS = ["eq", "in", "gt", "lt", "ge", "le", "contains", "not_contains", "has"];
/** Axes a dimension selection may fix: Python's `DIM_AXES` (T, C, Z, S, then the further
 * axes a table may have). */
export const AXES = ["T", "C", "Z", "S", "E", "H", "M", "V", "I", "R", "A", "P", "L", "Q"];

export const SLICE_PLACEHOLDERS = ["slice_axis", "slice_index", "slice_label", "slice_order"];
export const RESERVED = ["group", "where", "filters", "dims", "level", ...SLICE_PLACEHOLDERS];
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const SCALAR_TYPE = /^[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?$/;
const COMPARE = { eq: "=", gt: ">", lt: "<", ge: ">=", le: "<=" };

export class CompileError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = kind;
  }
}

/** A control value that names a column (compiled to a quoted identifier). */
export class Ident {
  constructor(name) {
    this.name = name;
  }
}

const pyRepr = (text) => `'${String(text).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** `name` double-quoted, after checking it is a column of the table. */
export function quoteIdent(name, columns) {
  if (!Object.hasOwn(columns, name)) {
    const known = Object.keys(columns).sort().join(", ");
    throw new CompileError("UnknownColumnError", `column ${pyRepr(name)} is not in the table; use one of: ${known}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

function castType(column, columns) {
  const dtype = columns[column].toUpperCase();
  if (!SCALAR_TYPE.test(dtype)) {
    throw new CompileError(
      "WidgetStateError",
      `column ${pyRepr(column)} has type ${columns[column]}, which only supports the contains / not_contains / has filters`,
    );
  }
  return dtype;
}

function filterSql(flt, columns) {
  const col = quoteIdent(flt.column, columns);
  if (!FILTER_OPS.includes(flt.op)) {
    throw new CompileError(
      "UnknownFilterOpError",
      `filter operator ${pyRepr(flt.op)} on column ${pyRepr(flt.column)} is unknown; use one of ${FILTER_OPS.join(", ")}`,
    );
  }
  if (flt.op === "contains" || flt.op === "not_contains") {
    let text = `contains(CAST(${col} AS VARCHAR), ?)`;
    if (flt.op === "not_contains") text = `(${col} IS NULL OR NOT ${text})`;
    return [text, [String(flt.value)]];
  }
  if (flt.op === "has") {
    if (columns[flt.column].endsWith("[]")) return [`list_contains(CAST(${col} AS VARCHAR[]), ?)`, [String(flt.value)]];
    return [`CAST(${col} AS VARCHAR) = ?`, [String(flt.value)]];
  }
  const dtype = castType(flt.column, columns);
  if (flt.op === "in") {
    const raw = flt.value;
    const values = typeof raw === "string" ? raw.split(",").map((v) => v.trim()) : [...raw];
    if (values.length === 0) return ["FALSE", []];
    const marks = values.map(() => `CAST(? AS ${dtype})`).join(", ");
    return [`${col} IN (${marks})`, values];
  }
  if (Array.isArray(flt.value) || (flt.value !== null && typeof flt.value === "object")) {
    throw new CompileError(
      "WidgetStateError",
      `filter ${flt.column} ${flt.op} needs a single value, got ${JSON.stringify(flt.value)}`,
    );
  }
  return [`${col} ${COMPARE[flt.op]} CAST(? AS ${dtype})`, [flt.value]];
}

/** The filters alone, joined by AND (TRUE when there are none). */
export function filtersSql(state, columns) {
  const parts = [];
  const params = [];
  for (const flt of state.filters || []) {
    const [text, values] = filterSql(flt, columns);
    parts.push(text);
    params.push(...values);
  }
  return [parts.length ? parts.join(" AND ") : "TRUE", params];
}

/** The dimension selection alone: "dim_z" = ? per axis, axes sorted (TRUE if none). */
export function dimsSql(state, columns) {
  const parts = [];
  const params = [];
  for (const axis of Object.keys(state.dims || {}).sort()) {
    parts.push(`${quoteIdent(`dim_${axis.toLowerCase()}`, columns)} = ?`);
    params.push(state.dims[axis]);
  }
  return [parts.length ? parts.join(" AND ") : "TRUE", params];
}

/** The text of a slice placeholder over the table's dim_* columns (sql.py slice_sql). */
export function sliceSql(name, columns) {
  const dims = AXES.filter((a) => Object.hasOwn(columns, `dim_${a.toLowerCase()}`)).map((a) => [
    a,
    quoteIdent(`dim_${a.toLowerCase()}`, columns),
  ]);
  if (!dims.length) return name === "slice_label" ? "''" : "NULL";
  if (name === "slice_axis") {
    return `CASE ${dims.map(([a, c]) => `WHEN ${c} IS NOT NULL THEN '${a}'`).join(" ")} END`;
  }
  if (name === "slice_index") return `coalesce(${dims.map(([, c]) => c).join(", ")})`;
  if (name === "slice_label") {
    return `concat_ws(', ', ${dims.map(([a, c]) => `'${a}=' || ${c}`).join(", ")})`;
  }
  return dims.map(([, c]) => `${c} NULLS FIRST`).join(", ");
}

/**
 * Replace every {{name}} in `template`; returns [sql, params] (see sql.py compile_sql).
 * state: {group_col, filters: [{column, op, value}], dims: {Z: 0}}; columns: name -> type;
 * controlValues: control id -> value (an Ident for column controls).
 */
export function compileSql(template, state, columns, controlValues) {
  const params = [];
  const dims = state.dims || {};
  const filters = state.filters || [];
  const sql = template.replace(PLACEHOLDER, (_match, name) => {
    if (name === "group") {
      if (state.group_col === null || state.group_col === undefined) return "'all'";
      return quoteIdent(state.group_col, columns);
    }
    if (name === "filters" || name === "dims" || name === "where") {
      const [fText, fParams] = filtersSql(state, columns);
      const [dText, dParams] = dimsSql(state, columns);
      let text;
      let values;
      if (name === "filters") [text, values] = [fText, fParams];
      else if (name === "dims") [text, values] = [dText, dParams];
      else if (filters.length === 0 && Object.keys(dims).length === 0) [text, values] = ["TRUE", []];
      else [text, values] = [`(${fText}) AND (${dText})`, [...fParams, ...dParams]];
      params.push(...values);
      return text;
    }
    if (name === "level") {
      params.push(Object.keys(dims).length);
      return "?";
    }
    if (SLICE_PLACEHOLDERS.includes(name)) return sliceSql(name, columns);
    if (Object.hasOwn(controlValues, name)) {
      const value = controlValues[name];
      if (value instanceof Ident) return quoteIdent(value.name, columns);
      params.push(value);
      return "?";
    }
    throw new CompileError(
      "WidgetDeclarationError",
      `SQL placeholder {{${name}}} is neither one of ${RESERVED.join(", ")} nor a control id of the widget`,
    );
  });
  return [sql, params];
}
